# Proves that scripts/plots.sh keeps working: runs mrsolve_plot_data into a scratch directory, draws the
# figures with docs/plots.gp into another, and checks that gnuplot reported nothing and that every figure
# exists and is not empty. The figures in docs/img/ are not touched.
# Usage: cmake -DPLOT_DATA=<mrsolve_plot_data> -DGNUPLOT=<gnuplot> -DSCRIPT=<docs/plots.gp> -DWORK_DIR=<dir>
#              -P render_plots.cmake
foreach(var IN ITEMS PLOT_DATA GNUPLOT SCRIPT WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "render_plots.cmake: -D${var}=... is required")
    endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/data ${WORK_DIR}/img)

execute_process(COMMAND ${PLOT_DATA} ${WORK_DIR}/data RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "mrsolve_plot_data failed (exit ${rc}):\n${out}${err}")
endif()
# docs/plots.gp writes UTF-8 text (`set encoding utf8`), which gnuplot converts with iconv in the current
# locale: under no locale or LANG=C it warns "iconv failed to convert degree sign". C.UTF-8 is built into
# glibc (2.35+), so it exists on every Debian 12 machine, configured or not.
execute_process(COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C.UTF-8
                        ${GNUPLOT} -e "datadir='${WORK_DIR}/data'; imgdir='${WORK_DIR}/img'" ${SCRIPT}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT "${out}${err}" STREQUAL "")
    message(FATAL_ERROR "gnuplot ${SCRIPT} failed or warned (exit ${rc}):\n${out}${err}")
endif()
foreach(figure IN ITEMS convergence convergence_tables trajectory families)
    foreach(format IN ITEMS png svg)
        set(file ${WORK_DIR}/img/${figure}.${format})
        if(NOT EXISTS ${file})
            message(FATAL_ERROR "gnuplot wrote no ${file}")
        endif()
        file(SIZE ${file} size)
        if(size LESS 10000)
            message(FATAL_ERROR "${file} has only ${size} bytes")
        endif()
        message(STATUS "${figure}.${format}: ${size} bytes")
    endforeach()
endforeach()
