// The C interface of the CUDA module, kdsr_cuda_backend.so, which the addon loads at run time
// (core/cuda_module.cc). Everything else the module uses from the addon (the kernel registry, tensors,
// register_cuda_backend) it links against by name; its kernels and its CudaBackend register themselves
// from static initialisers while the module loads. This function only describes it.
#pragma once

extern "C" {

struct KdsrCudaModuleInfo {
  const char* runtime;        // CUDA runtime version it was built with (linked statically), e.g. "13.0.88"
  const char* architectures;  // the CMAKE_CUDA_ARCHITECTURES it was compiled for
  const char* cudnn_built;    // the cuDNN headers it was compiled against, e.g. "9.24.0"
  const char* cudnn_loaded;   // the cuDNN library in use (cudnnGetVersion)
  const char* cudnn_file;     // that library's path
  const char* cublas_built;
  const char* cublas_loaded;
  const char* cublas_file;
};

const KdsrCudaModuleInfo* kdsr_cuda_module_info(void);

}  // extern "C"

#define KDSR_CUDA_MODULE_INFO_SYMBOL "kdsr_cuda_module_info"
