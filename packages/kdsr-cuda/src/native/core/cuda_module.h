// The CUDA backend lives in a module beside the addon, kdsr_cuda_backend.so, which links against CUDA
// (statically), cuDNN and cuBLAS; the addon itself never does, so it loads on any machine. The addon
// loads the module once per process, when it is first initialised; without the module, or when
// cuDNN/cuBLAS cannot be found, the addon stays CPU-only and says why.
#pragma once
#include <string>
#include <vector>

#include "cuda_module_abi.h"

namespace kdsr {

struct CudaModuleStatus {
  std::string module;                 // kdsr_cuda_backend.so beside the addon
  bool present = false;               // whether that file exists (a CPU-only build has none)
  bool loaded = false;                // the module is loaded and its CudaBackend registered
  std::string error;                  // why it did not load (the dynamic loader's message)
  std::vector<std::string> searched;  // the folders searched for its libraries after the loader's own search
  const KdsrCudaModuleInfo* info = nullptr;  // what the loaded module reports
};

// Loads the module on the first call (thread-safe) and returns what happened.
const CudaModuleStatus& load_cuda_module();

// What to install when the module is there but its libraries are not (one line).
const char* cuda_libraries_hint();

}  // namespace kdsr
