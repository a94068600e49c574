# Opt-in target mrsolve::libtorch: torch::Tensor states and TorchScript models
# (<mrsolve/adapters/libtorch.hpp>), for LibTorch found through its CMake package "Torch"
# (Debian 12: libtorch-dev, LibTorch 1.13; elsewhere pass -DTorch_DIR=<libtorch>/share/cmake/Torch).
#
# Like the backends of cmake/backends.cmake, the target is defined only when the dependency is found
# (a status line says so otherwise), and mrsolve::mrsolve never pulls LibTorch in.
# LibTorch is searched when mrsolve is the top-level project, or when asked (-DMRSOLVE_WITH_LIBTORCH=ON)
# as a subproject: its package is slow to configure. MRSOLVE_WITH_LIBTORCH=OFF skips the search.

option(MRSOLVE_WITH_LIBTORCH "Look for LibTorch and define mrsolve::libtorch" ${PROJECT_IS_TOP_LEVEL})

if(MRSOLVE_WITH_LIBTORCH)
    find_package(Torch CONFIG QUIET)
endif()
if(MRSOLVE_WITH_LIBTORCH AND TARGET torch)
    add_library(mrsolve_libtorch INTERFACE)
    add_library(mrsolve::libtorch ALIAS mrsolve_libtorch)
    set_target_properties(mrsolve_libtorch PROPERTIES EXPORT_NAME libtorch)
    # TORCH_LIBRARIES is `torch` plus the Caffe2 main libraries (c10, …) that TorchConfig found.
    target_link_libraries(mrsolve_libtorch INTERFACE mrsolve ${TORCH_LIBRARIES})
    message(STATUS "mrsolve: LibTorch ${Torch_VERSION} found, mrsolve::libtorch is defined")
elseif(MRSOLVE_WITH_LIBTORCH)
    message(STATUS "mrsolve: LibTorch not found, mrsolve::libtorch is not defined (libtorch-dev, "
                   "scripts/install-torch-deps.sh)")
endif()
