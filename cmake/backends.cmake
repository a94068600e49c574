# Opt-in backend targets. Each carries its own dependency; mrsolve::mrsolve never pulls one in.
#
#   mrsolve::eigen    Eigen 3.4 dense vectors, matrices and arrays     <mrsolve/backend/eigen.hpp>
#   mrsolve::xtensor  xt::xtensor / xt::xarray of any rank             <mrsolve/backend/xtensor.hpp>
#   mrsolve::thrust   thrust::device_vector on the device system the   <mrsolve/backend/thrust.hpp>
#                     consumer compiles for (CPP, OMP with g++; CUDA with nvcc)
#
# A backend whose dependency is not found is simply not defined (a status line says so).

find_package(Eigen3 3.4 CONFIG QUIET)
if(TARGET Eigen3::Eigen)
    add_library(mrsolve_eigen INTERFACE)
    add_library(mrsolve::eigen ALIAS mrsolve_eigen)
    set_target_properties(mrsolve_eigen PROPERTIES EXPORT_NAME eigen)
    target_link_libraries(mrsolve_eigen INTERFACE mrsolve Eigen3::Eigen)
else()
    message(STATUS "mrsolve: Eigen 3.4 not found, mrsolve::eigen is not defined (libeigen3-dev)")
endif()

find_package(xtensor CONFIG QUIET)
if(TARGET xtensor)
    add_library(mrsolve_xtensor INTERFACE)
    add_library(mrsolve::xtensor ALIAS mrsolve_xtensor)
    set_target_properties(mrsolve_xtensor PROPERTIES EXPORT_NAME xtensor)
    target_link_libraries(mrsolve_xtensor INTERFACE mrsolve xtensor)
else()
    message(STATUS "mrsolve: xtensor not found, mrsolve::xtensor is not defined (libxtensor-dev)")
endif()

# Thrust ships with the CUDA toolkit (CCCL headers); the CPP and OMP device systems need no GPU.
# Searched when mrsolve is the top-level project, or when asked (-DMRSOLVE_WITH_THRUST=ON) as a
# subproject; MRSOLVE_WITH_THRUST=OFF skips it (the sanitizer presets: CCCL's own headers trip UBSan).
option(MRSOLVE_WITH_THRUST "Look for Thrust (CUDA toolkit CCCL headers) and define mrsolve::thrust"
       ${PROJECT_IS_TOP_LEVEL})
if(MRSOLVE_WITH_THRUST)
    find_path(MRSOLVE_THRUST_INCLUDE_DIR thrust/version.h
              HINTS ${CUDAToolkit_ROOT} $ENV{CUDA_HOME} /usr/local/cuda
              PATH_SUFFIXES targets/x86_64-linux/include/cccl include/cccl include
              NO_DEFAULT_PATH)
endif()
if(MRSOLVE_WITH_THRUST AND MRSOLVE_THRUST_INCLUDE_DIR)
    add_library(mrsolve_thrust INTERFACE)
    add_library(mrsolve::thrust ALIAS mrsolve_thrust)
    set_target_properties(mrsolve_thrust PROPERTIES EXPORT_NAME thrust)
    target_link_libraries(mrsolve_thrust INTERFACE mrsolve)
    # SYSTEM: the toolkit's headers are not ours to warn about.
    target_include_directories(mrsolve_thrust SYSTEM INTERFACE ${MRSOLVE_THRUST_INCLUDE_DIR})
elseif(MRSOLVE_WITH_THRUST)
    message(STATUS "mrsolve: Thrust (CUDA toolkit CCCL headers) not found, mrsolve::thrust is not defined")
endif()
