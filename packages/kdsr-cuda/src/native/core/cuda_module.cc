#include "cuda_module.h"

#include <dlfcn.h>
#include <glob.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

#include "abi_tag.h"
#include "backend.h"
#include "build_config.h"
#include "error.h"

// The ABI tag (cmake/AbiTag.cmake) that the CUDA module links against: see cuda/cuda_module.cc.
extern "C" __attribute__((visibility("default"))) const int KDSR_ABI_TAG = 1;

namespace kdsr {
namespace {

const char* const kModuleName = "kdsr_cuda_backend.so";

std::string addon_folder() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&load_cuda_module), &info) == 0 || !info.dli_fname) return ".";
  std::string file = info.dli_fname;
  size_t slash = file.rfind('/');
  return slash == std::string::npos ? "." : file.substr(0, slash);
}

std::vector<std::string> split_folders(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void add_matches(const std::string& pattern, std::vector<std::string>& out) {
  glob_t found;
  if (glob(pattern.c_str(), GLOB_ONLYDIR, nullptr, &found) == 0)
    for (size_t i = 0; i < found.gl_pathc; i++) out.push_back(found.gl_pathv[i]);
  globfree(&found);
}

// Where cuDNN and cuBLAS are looked for when the dynamic loader's own search (LD_LIBRARY_PATH,
// /etc/ld.so.cache, the system folders) does not find them: KDSR_CUDA_LIBRARY_PATH when set (and then
// only there); otherwise the folders a source build found them in, the pip wheels (nvidia-cudnn-cu13,
// nvidia-cublas: site-packages/nvidia/*/lib) of the usual Python environments, and the CUDA toolkit.
std::vector<std::string> fallback_folders() {
  const char* chosen = std::getenv("KDSR_CUDA_LIBRARY_PATH");
  if (chosen && *chosen) return split_folders(chosen);
  std::vector<std::string> out = split_folders(KDSR_CUDA_LIBRARY_DIRS);
  std::vector<std::string> site_packages;
  for (const char* prefix : {"VIRTUAL_ENV", "CONDA_PREFIX"})
    if (const char* dir = std::getenv(prefix); dir && *dir) site_packages.push_back(concat(dir, "/lib/python3*/site-packages"));
  if (const char* home = std::getenv("HOME"); home && *home) site_packages.push_back(concat(home, "/.local/lib/python3*/site-packages"));
  for (const char* dir : {"/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages", "/usr/lib/python3/dist-packages"})
    site_packages.push_back(dir);
  for (const std::string& dir : site_packages) add_matches(dir + "/nvidia/*/lib", out);
  for (const char* toolkit : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* dir = std::getenv(toolkit); dir && *dir) out.push_back(concat(dir, "/lib64"));
  out.push_back("/usr/local/cuda/lib64");
  return out;
}

// "libcudnn.so.9: cannot open shared object file: No such file or directory" -> "libcudnn.so.9".
std::string missing_library(const std::string& error) {
  size_t colon = error.find(": cannot open shared object file");
  if (colon == std::string::npos) return "";
  std::string name = error.substr(0, colon);
  return name.find('/') == std::string::npos ? name : "";
}

CudaModuleStatus load() {
  CudaModuleStatus s;
  s.module = addon_folder() + "/" + kModuleName;
  s.present = access(s.module.c_str(), F_OK) == 0;
  if (!s.present) {
    s.error = concat(s.module, " is not there: this addon was built without the CUDA backend");
    return s;
  }
  s.searched = fallback_folders();
  // Each failed attempt names the first library the loader could not find; a copy from the fallback
  // folders, loaded by its path, then satisfies the module's dependency (matched by soname).
  std::set<std::string> preloaded;
  void* module = nullptr;
  while (!(module = dlopen(s.module.c_str(), RTLD_NOW | RTLD_LOCAL))) {
    std::string error = dlerror();
    std::string missing = missing_library(error);
    std::string found;
    if (!missing.empty() && preloaded.insert(missing).second)
      for (const std::string& dir : s.searched)
        if (access((dir + "/" + missing).c_str(), F_OK) == 0) {
          found = dir + "/" + missing;
          break;
        }
    if (found.empty()) {
      s.error = error.find("undefined symbol: kdsr_abi_") != std::string::npos
                    ? concat(error, " (the CUDA module was built from other sources than this addon: rebuild both)")
                    : error;
      return s;
    }
    if (!dlopen(found.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      s.error = dlerror();
      return s;
    }
  }
  auto info = reinterpret_cast<const KdsrCudaModuleInfo* (*)()>(dlsym(module, KDSR_CUDA_MODULE_INFO_SYMBOL));
  if (!info || !cuda_backend_if_loaded()) {
    s.error = concat(s.module, " loaded but is not a kdsr CUDA module (no ", KDSR_CUDA_MODULE_INFO_SYMBOL, " or no backend registered)");
    return s;
  }
  s.info = info();
  s.loaded = true;
  return s;
}

}  // namespace

const CudaModuleStatus& load_cuda_module() {
  static const CudaModuleStatus status = load();  // never unloaded: kernels and tensors live in it
  return status;
}

const char* cuda_libraries_hint() {
  return "install cuDNN 9 and cuBLAS for CUDA 13: `pip install nvidia-cudnn-cu13 nvidia-cublas` (found in the active "
         "Python environment's site-packages/nvidia/*/lib, or set KDSR_CUDA_LIBRARY_PATH to those lib folders), or the "
         "CUDA toolkit's cuBLAS with cuDNN 9 on the library path (LD_LIBRARY_PATH, ldconfig)";
}

}  // namespace kdsr
