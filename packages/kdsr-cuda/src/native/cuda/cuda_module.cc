// The CUDA module's one C entry point (core/cuda_module_abi.h): what it was built with and which cuDNN
// and cuBLAS it runs on. Neither call needs a GPU.
#include <cublas_v2.h>
#include <cudnn.h>
#include <dlfcn.h>

#include <string>

#include "../core/cuda_module_abi.h"
#include "../core/error.h"
#include "abi_tag.h"
#include "cuda_module_config.h"

// Defined by the addon this module was built with. Its address, kept here, is a relocation the dynamic
// loader must resolve when the module loads: next to an addon built from other sources (another tag) the
// module fails to load ("undefined symbol: kdsr_abi_...") instead of misbehaving.
extern "C" const int KDSR_ABI_TAG;
__attribute__((used)) static const int* const abi_tag = &KDSR_ABI_TAG;

namespace kdsr {
namespace {

std::string file_of(const void* symbol) {
  Dl_info info;
  return dladdr(symbol, &info) != 0 && info.dli_fname ? info.dli_fname : "";
}

std::string cublas_version() {
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS || cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS)
    return "unknown";
  return concat(major, ".", minor, ".", patch);
}

struct ModuleInfo {
  std::string cudnn_loaded, cudnn_file, cublas_loaded, cublas_file;
  KdsrCudaModuleInfo info{};

  ModuleInfo() {
    size_t v = cudnnGetVersion();  // cuDNN 9: major * 10000 + minor * 100 + patch
    cudnn_loaded = concat(v / 10000, ".", v / 100 % 100, ".", v % 100);
    cudnn_file = file_of(reinterpret_cast<const void*>(&cudnnGetVersion));
    cublas_loaded = cublas_version();
    cublas_file = file_of(reinterpret_cast<const void*>(&cublasGetProperty));
    info = KdsrCudaModuleInfo{KDSR_CUDA_RUNTIME_VERSION, KDSR_CUDA_ARCHS, KDSR_CUDNN_VERSION, cudnn_loaded.c_str(), cudnn_file.c_str(),
                              KDSR_CUBLAS_VERSION, cublas_loaded.c_str(), cublas_file.c_str()};
  }
};

}  // namespace
}  // namespace kdsr

extern "C" __attribute__((visibility("default"))) const KdsrCudaModuleInfo* kdsr_cuda_module_info(void) {
  static const kdsr::ModuleInfo module;  // built on first call
  return &module.info;
}
