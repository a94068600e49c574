# install_check.cmake — the Python package installs with `cmake --install --component python` and the
# installed copy imports and samples (test python_install, label packaging).
#   cmake -DBUILD_DIR=<build> -DPREFIX=<empty prefix> -DINSTALL_DIR=<relative package dir> -DPYTHON=<python>
#         -P python/install_check.cmake
foreach(variable IN ITEMS BUILD_DIR PREFIX INSTALL_DIR PYTHON)
    if(NOT ${variable})
        message(FATAL_ERROR "install_check.cmake: ${variable} is not set")
    endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --component python --prefix "${PREFIX}"
                COMMAND_ERROR_IS_FATAL ANY)
set(site "${PREFIX}/${INSTALL_DIR}")
# Run from the prefix (not the source tree) with only the installed package on the path.
execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env "PYTHONPATH=${site}" "${PYTHON}" -c
        "import mrsolve, torch; assert mrsolve.__file__.startswith('${site}'), mrsolve.__file__; sde = mrsolve.IRSDETable(); x, s = mrsolve.sample(lambda x, mu, t: torch.zeros_like(x), torch.rand(4), sde=sde, nfe=5); assert s.completed; print('installed', mrsolve.__file__)"
    WORKING_DIRECTORY "${PREFIX}"
    RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "install_check.cmake: the installed package in ${site} does not import and sample")
endif()
