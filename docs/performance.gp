# docs/img/performance.svg: per-step time of the ODE-2 and SDE-2 steps (docs/data/performance_summary.dat).
# Run from the repository root: gnuplot docs/performance.gp
set terminal svg size 760,360 dynamic font 'sans,12'
set output 'docs/img/performance.svg'
set title 'One MR Sampler step on a 3x256x256 float32 state (zero-cost model)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [5:5000]
set ylabel 'microseconds per step (log scale)'
set grid ytics
set key top right
plot 'docs/data/performance_summary.dat' using 2:xtic(1) title 'ODE-2 (data)' lc rgb '#0072B2', \
     '' using 3 title 'SDE-2 (data)' lc rgb '#D55E00'
