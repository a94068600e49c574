# Fixture set-up for the find_package consumer: installs the outer build into a fresh prefix.
#   cmake -DBUILD_DIR=<outer build> -DPREFIX=<prefix> -DINCLUDEDIR=<rel. dir> -DCMAKEDIR=<rel. dir>
#         [-DCONFIG=<config>] [-DCLEAN_DIRS=<dir>|<dir>...] [-DTOOLS=<rel. path>|<rel. path>...]
#         -P install_prefix.cmake
# TOOLS lists installed programs (relative to the prefix) that must be there and answer --help.
# The prefix (and the consumer's old build, listed in CLEAN_DIRS, '|'-separated) are removed first,
# so that nothing left by an earlier run can make the consumer pass.
foreach(variable IN ITEMS BUILD_DIR PREFIX INCLUDEDIR CMAKEDIR)
    if(NOT ${variable})
        message(FATAL_ERROR "install_prefix.cmake: ${variable} is not set")
    endif()
endforeach()

string(REPLACE "|" ";" clean_dirs "${CLEAN_DIRS}")
file(REMOVE_RECURSE "${PREFIX}" ${clean_dirs})

set(config_args "")
if(CONFIG)
    set(config_args --config "${CONFIG}")
endif()
execute_process(
    COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
    COMMAND_ERROR_IS_FATAL ANY)

# The layout a consumer relies on.
foreach(path IN ITEMS
        ${INCLUDEDIR}/mrsolve/error.hpp
        ${INCLUDEDIR}/mrsolve/prediction/fit_target.hpp
        ${CMAKEDIR}/mrsolveConfig.cmake
        ${CMAKEDIR}/mrsolveConfigVersion.cmake
        ${CMAKEDIR}/mrsolveTargets.cmake)
    if(NOT EXISTS "${PREFIX}/${path}")
        message(FATAL_ERROR "install_prefix.cmake: ${PREFIX}/${path} was not installed")
    endif()
endforeach()

# The tools: installed, and runnable from the prefix.
string(REPLACE "|" ";" tools "${TOOLS}")
foreach(tool IN LISTS tools)
    if(NOT EXISTS "${PREFIX}/${tool}")
        message(FATAL_ERROR "install_prefix.cmake: ${PREFIX}/${tool} was not installed")
    endif()
    execute_process(COMMAND "${PREFIX}/${tool}" --help RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT status EQUAL 0 OR NOT output MATCHES "usage: ")
        message(FATAL_ERROR "install_prefix.cmake: '${PREFIX}/${tool} --help' exited with ${status}:\n${output}")
    endif()
endforeach()
