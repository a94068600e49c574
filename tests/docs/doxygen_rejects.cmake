# Proves that the API reference's Doxygen configuration rejects undocumented public entities.
# Runs Doxygen with the project's configured Doxyfile (pulled in by @INCLUDE; only the input and output
# are replaced) on temporary copies of small fixture headers:
#   documented.hpp      everything public documented, internals (mrsolve::detail, private members) not:
#                       Doxygen must succeed;
#   undocumented.hpp    a public function without documentation: Doxygen must fail and name it;
#   misnamed_param.hpp  a @param naming a parameter the function lacks: Doxygen must fail and name it.
# Usage: cmake -DDOXYGEN=<doxygen> -DDOXYFILE=<build>/docs/Doxyfile -DFIXTURES=<dir> -DWORK_DIR=<dir>
#              -P doxygen_rejects.cmake
foreach(var IN ITEMS DOXYGEN DOXYFILE FIXTURES WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "doxygen_rejects.cmake: -D${var}=... is required")
    endif()
endforeach()

set(failures 0)
# expect: PASS, or FAIL followed by the texts Doxygen's output must contain.
function(run_case header expect)
    get_filename_component(stem ${header} NAME_WE)
    set(dir ${WORK_DIR}/${stem})
    file(REMOVE_RECURSE ${dir})
    file(MAKE_DIRECTORY ${dir}/input ${dir}/output)
    file(COPY ${FIXTURES}/${header} DESTINATION ${dir}/input)
    file(WRITE ${dir}/Doxyfile
        "@INCLUDE = \"${DOXYFILE}\"\n"
        "INPUT = \"${dir}/input\"\n"
        "OUTPUT_DIRECTORY = \"${dir}/output\"\n"
        "USE_MDFILE_AS_MAINPAGE =\n"
        "STRIP_FROM_PATH = \"${dir}/input\"\n"
        "STRIP_FROM_INC_PATH = \"${dir}/input\"\n")
    execute_process(COMMAND ${DOXYGEN} ${dir}/Doxyfile
                    WORKING_DIRECTORY ${dir}
                    RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out
                    ERROR_VARIABLE err)
    set(log "${out}${err}")
    if(expect STREQUAL "PASS")
        if(NOT rc EQUAL 0)
            message(SEND_ERROR "${header}: Doxygen failed (exit ${rc}) but this fixture is fully documented:\n${log}")
            math(EXPR failures "${failures} + 1")
        else()
            message(STATUS "${header}: accepted, as expected")
        endif()
    else()
        set(missing "")
        foreach(needle IN LISTS ARGN)
            string(FIND "${log}" "${needle}" at)
            if(at EQUAL -1)
                list(APPEND missing "'${needle}'")
            endif()
        endforeach()
        if(rc EQUAL 0)
            message(SEND_ERROR "${header}: Doxygen succeeded but must fail:\n${log}")
            math(EXPR failures "${failures} + 1")
        elseif(missing)
            message(SEND_ERROR "${header}: Doxygen failed (exit ${rc}) but its output lacks ${missing}:\n${log}")
            math(EXPR failures "${failures} + 1")
        else()
            string(STRIP "${log}" log)
            message(STATUS "${header}: rejected, as expected (exit ${rc}):\n${log}")
        endif()
    endif()
    set(failures ${failures} PARENT_SCOPE)
endfunction()

run_case(documented.hpp PASS)
run_case(undocumented.hpp FAIL "undocumented_function" "not documented")
run_case(misnamed_param.hpp FAIL "old_name" "not found in the argument list")
if(failures GREATER 0)
    message(FATAL_ERROR "doxygen_rejects.cmake: ${failures} case(s) did not behave as expected")
endif()
