# The CUDA backend: a separate shared module, kdsr_cuda_backend.so, beside the addon. The addon never
# links against CUDA, cuDNN or cuBLAS; it dlopen()s the module when it loads (core/cuda_module.cc) and
# stays CPU-only, saying why, when the module or the libraries it needs cannot be loaded. The module is
# compiled only when the CUDA toolkit (nvcc), cuDNN 9 and cuBLAS are all there; otherwise the configure
# step says why.
#
#   KDSR_CUDA        AUTO (default) | ON (fail when something is missing) | OFF
#   KDSR_CUDA_ARCHS  CMAKE_CUDA_ARCHITECTURES list; default "80-real;86-real;89-real;90"
#                    (SASS for sm_80/86/89/90 plus PTX of sm_90 for newer GPUs)
#   CUDNN_ROOT       folder holding include/cudnn.h and lib/libcudnn.so.9
#   CUBLAS_ROOT      folder holding include/cublas_v2.h and lib/libcublas.so.13
#   KDSR_CUDA_DEPS   where tools/install-cuda-deps.sh put the pip packages (default <repo>/.cuda-deps)
#   CUDAToolkit_ROOT / CUDACXX   the toolkit, when nvcc is not on the PATH or in /usr/local/cuda
# Each is read from the environment as well as from -D, so `KDSR_CUDA=OFF npm install` works.
#
# Sets KDSR_CUDA_LIBRARY_DIRS: the folders cuDNN and cuBLAS were found in, where the addon of a source
# build looks for them at run time (empty when the module is not built).

foreach(var KDSR_CUDA KDSR_CUDA_ARCHS CUDNN_ROOT CUBLAS_ROOT KDSR_CUDA_DEPS)
  if(DEFINED ENV{${var}} AND NOT "$ENV{${var}}" STREQUAL "")
    set(${var} "$ENV{${var}}" CACHE STRING "" FORCE)
  endif()
endforeach()
set(KDSR_CUDA "AUTO" CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set(KDSR_CUDA_ARCHS "80-real;86-real;89-real;90" CACHE STRING "CUDA architectures (CMAKE_CUDA_ARCHITECTURES syntax)")
set(KDSR_CUDA_DEPS "${CMAKE_CURRENT_SOURCE_DIR}/../../.cuda-deps" CACHE PATH "Folder of the pip-installed cuDNN and cuBLAS")

set(KDSR_CUDA_LIBRARY_DIRS "")

# The module is written beside the addon (cmake-js sets CMAKE_LIBRARY_OUTPUT_DIRECTORY). A build
# without it removes the one an earlier configuration left there, which the addon would load.
if(CMAKE_LIBRARY_OUTPUT_DIRECTORY)
  set(KDSR_CUDA_MODULE_FILE "${CMAKE_LIBRARY_OUTPUT_DIRECTORY}/kdsr_cuda_backend.so")
else()
  set(KDSR_CUDA_MODULE_FILE "${CMAKE_CURRENT_BINARY_DIR}/kdsr_cuda_backend.so")
endif()

# Reports a missing piece: fatal under KDSR_CUDA=ON, a CPU-only build under AUTO.
macro(kdsr_cuda_unavailable why)
  if(KDSR_CUDA STREQUAL "ON")
    message(FATAL_ERROR "kdsr: KDSR_CUDA=ON but ${why}")
  endif()
  message(NOTICE "kdsr: building CPU-only (no CUDA backend): ${why}")
  file(REMOVE "${KDSR_CUDA_MODULE_FILE}")
  return()
endmacro()

if(KDSR_CUDA STREQUAL "OFF")
  message(NOTICE "kdsr: building CPU-only (KDSR_CUDA=OFF)")
  file(REMOVE "${KDSR_CUDA_MODULE_FILE}")
  return()
endif()
if(NOT KDSR_CUDA MATCHES "^(AUTO|ON)$")
  message(FATAL_ERROR "kdsr: KDSR_CUDA must be AUTO, ON or OFF, got '${KDSR_CUDA}'")
endif()

# nvcc: CUDACXX, CUDAToolkit_ROOT, the PATH, then the usual install folder.
if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(KDSR_NVCC nvcc HINTS "${CUDAToolkit_ROOT}/bin" "$ENV{CUDAToolkit_ROOT}/bin" PATHS /usr/local/cuda/bin NO_CACHE)
  if(KDSR_NVCC)
    get_filename_component(KDSR_NVCC "${KDSR_NVCC}" REALPATH)
    set(CMAKE_CUDA_COMPILER "${KDSR_NVCC}")
  endif()
endif()
include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  kdsr_cuda_unavailable("the CUDA toolkit (nvcc) was not found; set CUDACXX or CUDAToolkit_ROOT")
endif()
set(CMAKE_CUDA_ARCHITECTURES "${KDSR_CUDA_ARCHS}")
enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
find_package(CUDAToolkit QUIET)
if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cudart_static)
  kdsr_cuda_unavailable("nvcc was found at ${CMAKE_CUDA_COMPILER} but not the CUDA runtime library (libcudart_static.a)")
endif()

# Python environments (PyTorch's included) keep cuDNN and cuBLAS in site-packages/nvidia/*.
set(KDSR_PIP_NVIDIA_DIRS "")
find_program(KDSR_PYTHON NAMES python3 python NO_CACHE)
if(KDSR_PYTHON)
  execute_process(
    COMMAND "${KDSR_PYTHON}" -c "import importlib.util as u\nfor m in ('nvidia.cudnn', 'nvidia.cu13', 'nvidia.cublas'):\n    try:\n        s = u.find_spec(m)\n    except ImportError:\n        s = None\n    if s and s.submodule_search_locations:\n        print(list(s.submodule_search_locations)[0])"
    OUTPUT_VARIABLE KDSR_PIP_NVIDIA_DIRS OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  string(REPLACE "\n" ";" KDSR_PIP_NVIDIA_DIRS "${KDSR_PIP_NVIDIA_DIRS}")
endif()

set(KDSR_CUDA_LIB_SUFFIXES lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu)

find_path(KDSR_CUDNN_INCLUDE_DIR cudnn_version.h NO_CACHE
  HINTS "${CUDNN_ROOT}" "${KDSR_CUDA_DEPS}/nvidia/cudnn" ${KDSR_PIP_NVIDIA_DIRS} ${CUDAToolkit_INCLUDE_DIRS}
  PATH_SUFFIXES include)
find_library(KDSR_CUDNN_LIBRARY NAMES libcudnn.so.9 cudnn NO_CACHE
  HINTS "${CUDNN_ROOT}" "${KDSR_CUDA_DEPS}/nvidia/cudnn" ${KDSR_PIP_NVIDIA_DIRS} "${CUDAToolkit_LIBRARY_DIR}"
  PATH_SUFFIXES ${KDSR_CUDA_LIB_SUFFIXES})
if(NOT KDSR_CUDNN_INCLUDE_DIR OR NOT KDSR_CUDNN_LIBRARY)
  kdsr_cuda_unavailable("cuDNN 9 was not found (headers: ${KDSR_CUDNN_INCLUDE_DIR}, library: ${KDSR_CUDNN_LIBRARY}); run tools/install-cuda-deps.sh or set CUDNN_ROOT")
endif()
file(STRINGS "${KDSR_CUDNN_INCLUDE_DIR}/cudnn_version.h" KDSR_CUDNN_DEFINES REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ")
string(REGEX REPLACE ".*CUDNN_MAJOR ([0-9]+).*CUDNN_MINOR ([0-9]+).*CUDNN_PATCHLEVEL ([0-9]+).*" "\\1.\\2.\\3" KDSR_CUDNN_VERSION "${KDSR_CUDNN_DEFINES}")
if(NOT KDSR_CUDNN_VERSION MATCHES "^9\\.")
  kdsr_cuda_unavailable("cuDNN 9 is required, found ${KDSR_CUDNN_VERSION} in ${KDSR_CUDNN_INCLUDE_DIR}")
endif()

find_path(KDSR_CUBLAS_INCLUDE_DIR cublas_api.h NO_CACHE
  HINTS "${CUBLAS_ROOT}" "${KDSR_CUDA_DEPS}/nvidia/cu${CUDAToolkit_VERSION_MAJOR}" ${KDSR_PIP_NVIDIA_DIRS} ${CUDAToolkit_INCLUDE_DIRS}
  PATH_SUFFIXES include)
find_library(KDSR_CUBLAS_LIBRARY NAMES libcublas.so.${CUDAToolkit_VERSION_MAJOR} cublas NO_CACHE
  HINTS "${CUBLAS_ROOT}" "${KDSR_CUDA_DEPS}/nvidia/cu${CUDAToolkit_VERSION_MAJOR}" ${KDSR_PIP_NVIDIA_DIRS} "${CUDAToolkit_LIBRARY_DIR}"
  PATH_SUFFIXES ${KDSR_CUDA_LIB_SUFFIXES})
if(NOT KDSR_CUBLAS_INCLUDE_DIR OR NOT KDSR_CUBLAS_LIBRARY)
  kdsr_cuda_unavailable("cuBLAS ${CUDAToolkit_VERSION_MAJOR} was not found (headers: ${KDSR_CUBLAS_INCLUDE_DIR}, library: ${KDSR_CUBLAS_LIBRARY}); run tools/install-cuda-deps.sh or set CUBLAS_ROOT")
endif()
file(STRINGS "${KDSR_CUBLAS_INCLUDE_DIR}/cublas_api.h" KDSR_CUBLAS_DEFINES REGEX "^#define CUBLAS_VER_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE ".*CUBLAS_VER_MAJOR ([0-9]+).*CUBLAS_VER_MINOR ([0-9]+).*CUBLAS_VER_PATCH ([0-9]+).*" "\\1.\\2.\\3" KDSR_CUBLAS_VERSION "${KDSR_CUBLAS_DEFINES}")
if(NOT KDSR_CUBLAS_VERSION MATCHES "^${CUDAToolkit_VERSION_MAJOR}\\.")
  kdsr_cuda_unavailable("cuBLAS ${KDSR_CUBLAS_VERSION} does not match CUDA ${CUDAToolkit_VERSION}")
endif()

# The module: src/native/cuda/ and the ops' *_cuda.cu (nvcc) and *_cudnn.cc (the C++ compiler). Its
# kernels and its CudaBackend register themselves with the addon's registry from static initialisers,
# which run when the addon dlopen()s it.
file(GLOB_RECURSE KDSR_CUDA_SOURCES CONFIGURE_DEPENDS
  "${CMAKE_CURRENT_SOURCE_DIR}/src/native/cuda/*.cc"
  "${CMAKE_CURRENT_SOURCE_DIR}/src/native/cuda/*.cu"
  "${CMAKE_CURRENT_SOURCE_DIR}/src/native/ops/*_cuda.cu"
  "${CMAKE_CURRENT_SOURCE_DIR}/src/native/ops/*_cuda.cc"
  "${CMAKE_CURRENT_SOURCE_DIR}/src/native/ops/*_cudnn.cc")
add_library(kdsr_cuda_backend MODULE ${KDSR_CUDA_SOURCES})
set_target_properties(kdsr_cuda_backend PROPERTIES PREFIX "" SUFFIX ".so" OUTPUT_NAME "kdsr_cuda_backend")
# The CUDA twins of the bit-for-bit ops (KDSR_BITWISE_OPS, CMakeLists.txt): no FMA contraction.
foreach(op IN LISTS KDSR_BITWISE_OPS)
  set_source_files_properties("${CMAKE_CURRENT_SOURCE_DIR}/src/native/ops/${op}/${op}_cuda.cu" PROPERTIES
    COMPILE_OPTIONS "--fmad=false;-Xcompiler=-ffp-contract=off" COMPILE_DEFINITIONS KDSR_NO_FP_CONTRACT)
endforeach()
target_include_directories(kdsr_cuda_backend PRIVATE "${CMAKE_CURRENT_BINARY_DIR}/generated")
target_include_directories(kdsr_cuda_backend SYSTEM PRIVATE ${CUDAToolkit_INCLUDE_DIRS} "${KDSR_CUDNN_INCLUDE_DIR}" "${KDSR_CUBLAS_INCLUDE_DIR}")
target_compile_options(kdsr_cuda_backend PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter -O3>
  $<$<COMPILE_LANGUAGE:CUDA>:-O3 --extended-lambda -Xcompiler=-Wall,-Wno-unused-parameter>)
add_dependencies(kdsr_cuda_backend kdsr_abi_tag)

# What `buildInfo().cuda` reports about the build (cuda/cuda_module.cc).
configure_file("${CMAKE_CURRENT_SOURCE_DIR}/src/native/cuda/cuda_module_config.h.in" "${CMAKE_CURRENT_BINARY_DIR}/generated/cuda_module_config.h")

# The module's dependencies: the addon itself, by its soname (kdsr_native.node: the already loaded addon
# satisfies it, and its ABI tag symbol, core/abi_tag.h, must match), the CUDA runtime linked statically
# (it opens the driver, libcuda.so.1, only when first used, so the module loads without a GPU), and cuDNN
# and cuBLAS by their versioned sonames. No run path: the addon finds cuDNN and cuBLAS (core/cuda_module.cc),
# so the module is the same file in a source build and in the platform package.
get_filename_component(KDSR_CUDNN_LIBRARY_DIR "${KDSR_CUDNN_LIBRARY}" DIRECTORY)
get_filename_component(KDSR_CUBLAS_LIBRARY_DIR "${KDSR_CUBLAS_LIBRARY}" DIRECTORY)
target_link_libraries(kdsr_cuda_backend PRIVATE ${PROJECT_NAME} CUDA::cudart_static "${KDSR_CUDNN_LIBRARY}" "${KDSR_CUBLAS_LIBRARY}")
target_link_options(kdsr_cuda_backend PRIVATE "LINKER:--no-undefined")
set_target_properties(kdsr_cuda_backend PROPERTIES SKIP_BUILD_RPATH ON)

set(KDSR_CUDA_LIBRARY_DIRS "${KDSR_CUDNN_LIBRARY_DIR};${KDSR_CUBLAS_LIBRARY_DIR}")
list(REMOVE_DUPLICATES KDSR_CUDA_LIBRARY_DIRS)
message(NOTICE "kdsr: CUDA backend ON (kdsr_cuda_backend.so): CUDA ${CUDAToolkit_VERSION} (${CMAKE_CUDA_COMPILER}), archs ${KDSR_CUDA_ARCHS}, "
  "cuDNN ${KDSR_CUDNN_VERSION} (${KDSR_CUDNN_LIBRARY}), cuBLAS ${KDSR_CUBLAS_VERSION} (${KDSR_CUBLAS_LIBRARY})")
