# MRSOLVE_BUILD_PYTHON: the Python package `mrsolve` (python/). AUTO (the default) builds it when mrsolve
# is the top-level project and an interpreter with its development files, LibTorch (mrsolve::libtorch) and
# pybind11 are all found, and that interpreter imports torch; otherwise a status line says what is
# missing. AUTO is decided anew at every configure, so installing the dependencies later (as
# scripts/test.sh does after scripts/demo.sh configured the same build directory) turns it on. ON
# requires them; OFF skips the search. Choose the interpreter with -DPython3_EXECUTABLE=... (it must see the torch whose
# LibTorch CMake package -DTorch_DIR points at: see docs/python.md).

set(MRSOLVE_BUILD_PYTHON AUTO CACHE STRING
    "Build the Python package mrsolve: AUTO (when Python with torch, LibTorch and pybind11 are found), ON or OFF")
set_property(CACHE MRSOLVE_BUILD_PYTHON PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${MRSOLVE_BUILD_PYTHON}" mrsolve_python_request)
if(mrsolve_python_request STREQUAL "AUTO")
    set(mrsolve_python_search ${PROJECT_IS_TOP_LEVEL})
elseif(MRSOLVE_BUILD_PYTHON)
    set(mrsolve_python_search ON)
else()
    set(mrsolve_python_search OFF)
endif()

set(mrsolve_python_missing "")
if(mrsolve_python_search)
    # Unless an interpreter that imports torch is already set, take the first of python3 on PATH and the
    # system's /usr/bin/python3 that imports torch: a pyenv or conda python3 first on PATH often has no
    # torch while Debian's has (and one cached by an earlier configure may have had none then).
    set(mrsolve_python_has_torch 1)
    if(Python3_EXECUTABLE)
        execute_process(COMMAND ${Python3_EXECUTABLE} -c "import torch" RESULT_VARIABLE mrsolve_python_has_torch
                        OUTPUT_QUIET ERROR_QUIET)
    endif()
    if(NOT Python3_EXECUTABLE OR NOT mrsolve_python_has_torch EQUAL 0)
        find_program(mrsolve_path_python3 NAMES python3 NO_CACHE)
        foreach(candidate IN ITEMS ${mrsolve_path_python3} /usr/bin/python3)
            if(EXISTS ${candidate})
                execute_process(COMMAND ${candidate} -c "import torch" RESULT_VARIABLE mrsolve_candidate_torch
                                OUTPUT_QUIET ERROR_QUIET)
                if(mrsolve_candidate_torch EQUAL 0)
                    set(Python3_EXECUTABLE ${candidate} CACHE FILEPATH "The Python interpreter of the mrsolve package"
                        FORCE)
                    break()
                endif()
            endif()
        endforeach()
    endif()
    find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
    if(NOT Python3_FOUND)
        list(APPEND mrsolve_python_missing "Python3 (interpreter and development files)")
    else()
        execute_process(COMMAND ${Python3_EXECUTABLE} -c "import torch"
                        RESULT_VARIABLE mrsolve_python_torch OUTPUT_QUIET ERROR_QUIET)
        if(NOT mrsolve_python_torch EQUAL 0)
            list(APPEND mrsolve_python_missing "torch for ${Python3_EXECUTABLE} (pass -DPython3_EXECUTABLE=<python with torch>)")
        endif()
    endif()
    if(NOT TARGET mrsolve::libtorch)
        list(APPEND mrsolve_python_missing "LibTorch (mrsolve::libtorch)")
    endif()
    if(Python3_FOUND)
        # LibTorch 2.x's own package configuration runs find_package(Python COMPONENTS Interpreter), and
        # pybind11 prefers a found `Python` over `Python3`, then lacks Python_add_library (seen on an H200
        # machine with PyTorch 2.11): find `Python` whole too, for the same interpreter.
        set(Python_EXECUTABLE ${Python3_EXECUTABLE})
        find_package(Python COMPONENTS Interpreter Development.Module QUIET)
        find_package(pybind11 CONFIG QUIET)
    endif()
    if(NOT pybind11_FOUND)
        list(APPEND mrsolve_python_missing "pybind11 (pybind11-dev)")
    endif()
endif()

if(mrsolve_python_search AND NOT mrsolve_python_missing)
    set(MRSOLVE_PYTHON_ENABLED ON)
else()
    set(MRSOLVE_PYTHON_ENABLED OFF)
endif()

if(NOT mrsolve_python_request STREQUAL "AUTO" AND MRSOLVE_BUILD_PYTHON AND mrsolve_python_missing)
    list(JOIN mrsolve_python_missing ", " mrsolve_python_missing_text)
    message(FATAL_ERROR "mrsolve: MRSOLVE_BUILD_PYTHON is ON but these were not found: ${mrsolve_python_missing_text}")
elseif(MRSOLVE_PYTHON_ENABLED)
    message(STATUS "mrsolve: Python package enabled (${Python3_EXECUTABLE}, pybind11 ${pybind11_VERSION})")
elseif(mrsolve_python_missing)
    list(JOIN mrsolve_python_missing ", " mrsolve_python_missing_text)
    message(STATUS "mrsolve: Python package not built, not found: ${mrsolve_python_missing_text}")
endif()
