# Builds CONTROL, which must succeed, then TARGET, which must fail with output matching PATTERN.
#   cmake -DBUILD_DIR=<build dir> -DCONTROL=<target> -DTARGET=<target> -DPATTERN=<regex> [-DCONFIG=<config>]
#         -P build_expecting_error.cmake
foreach(variable IN ITEMS BUILD_DIR CONTROL TARGET PATTERN)
    if(NOT ${variable})
        message(FATAL_ERROR "build_expecting_error.cmake: ${variable} is not set")
    endif()
endforeach()
set(config_args "")
if(CONFIG)
    set(config_args --config "${CONFIG}")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${CONTROL}" ${config_args}
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT status EQUAL 0)
    message(FATAL_ERROR "build_expecting_error: the control ${CONTROL} (the same source with its header included) "
                        "does not build, so the expected failure would prove nothing:\n${output}")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}" ${config_args}
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(status EQUAL 0)
    message(FATAL_ERROR "build_expecting_error: ${TARGET} compiled, but it must fail to")
endif()
if(NOT output MATCHES "${PATTERN}")
    message(FATAL_ERROR "build_expecting_error: ${TARGET} failed to compile, but without the message '${PATTERN}':\n${output}")
endif()
message(STATUS "${TARGET} failed to compile with the expected message: ${CMAKE_MATCH_0}")
