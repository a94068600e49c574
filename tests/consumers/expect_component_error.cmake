# Configures the components consumer against an install prefix twice: asking for CONTROL_COMPONENTS must
# succeed (so the consumer itself works), asking for COMPONENTS, with CONSUMER_ARGS added, must fail with
# output matching PATTERN.
#   cmake -DCONSUMER_DIR=<components/> -DWORK_DIR=<scratch dir> -DPREFIX=<install prefix>
#         -DCONTROL_COMPONENTS=<c> -DCOMPONENTS=<c> -DPATTERN=<regex> [-DGENERATOR=<generator>]
#         [-DCONSUMER_ARGS=<arg>|<arg>...]
#         [-DMRSOLVE_SOURCE_DIR=<mrsolve source> -DCXX_COMPILER=<compiler> -DINSTALL_ARGS=<arg>|<arg>...]
# With MRSOLVE_SOURCE_DIR, mrsolve is first configured with INSTALL_ARGS (tests, examples and docs off) and
# installed into PREFIX, e.g. without LibTorch; otherwise PREFIX is an install made beforehand.
foreach(variable IN ITEMS CONSUMER_DIR WORK_DIR PREFIX CONTROL_COMPONENTS COMPONENTS PATTERN)
    if(NOT ${variable})
        message(FATAL_ERROR "expect_component_error.cmake: ${variable} is not set")
    endif()
endforeach()
set(generator_args "")
if(GENERATOR)
    set(generator_args -G "${GENERATOR}")
endif()
string(REPLACE "|" ";" consumer_args "${CONSUMER_ARGS}")
string(REPLACE "|" ";" install_args "${INSTALL_ARGS}")
file(REMOVE_RECURSE "${WORK_DIR}")

if(MRSOLVE_SOURCE_DIR)
    file(REMOVE_RECURSE "${PREFIX}")
    execute_process(
        COMMAND "${CMAKE_COMMAND}" -S "${MRSOLVE_SOURCE_DIR}" -B "${WORK_DIR}/mrsolve" ${generator_args}
                "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DMRSOLVE_BUILD_TESTS=OFF -DMRSOLVE_BUILD_EXAMPLES=OFF
                -DMRSOLVE_BUILD_DOCS=OFF -DMRSOLVE_INSTALL=ON ${install_args}
        RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "expect_component_error: configuring mrsolve failed:\n${output}")
    endif()
    execute_process(COMMAND "${CMAKE_COMMAND}" --install "${WORK_DIR}/mrsolve" --prefix "${PREFIX}"
                    RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "expect_component_error: installing mrsolve failed:\n${output}")
    endif()
endif()

# Configures the consumer asking for `components` (ARGN: more arguments); sets status and output.
function(configure_consumer name components)
    execute_process(
        COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/${name}" ${generator_args}
                "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DMRSOLVE_COMPONENTS=${components}" ${ARGN}
        RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
    set(status "${status}" PARENT_SCOPE)
    set(output "${output}" PARENT_SCOPE)
endfunction()

configure_consumer(control "${CONTROL_COMPONENTS}")
if(NOT status EQUAL 0)
    message(FATAL_ERROR "expect_component_error: asking for '${CONTROL_COMPONENTS}' failed too, so the expected "
                        "failure would prove nothing:\n${output}")
endif()
configure_consumer(missing "${COMPONENTS}" ${consumer_args})
message("${output}")
if(status EQUAL 0)
    message(FATAL_ERROR "expect_component_error: asking for '${COMPONENTS}' succeeded, but it must fail")
endif()
# CMake wraps the reason at 80 columns: match it with every run of white space made one space.
string(REGEX REPLACE "[ \t\r\n]+" " " flat_output "${output}")
if(NOT flat_output MATCHES "${PATTERN}")
    message(FATAL_ERROR "expect_component_error: asking for '${COMPONENTS}' failed without the message '${PATTERN}'")
endif()
