# docs/plots.gp — draws the figures in docs/img/ from the data that `mrsolve_plot_data DIR` writes
# (examples/plots/convergence_data.cpp). Regenerate everything with one command: `bash scripts/plots.sh`.
#
#   gnuplot -e "datadir='build/plots'; imgdir='docs/img'" docs/plots.gp
#
# writes, each as PNG and SVG:
#   convergence.*         error against NFE (5 … 200, log–log) of every solver on the Gaussian oracle under
#                         the continuous cosine IR-SDE, with each solver's fitted slope in the legend;
#   convergence_tables.*  the same on the discrete IR-SDE tables trained models use, at the NFE whose grids
#                         lie on table nodes, with the published fixed-step baselines;
#   trajectory.*          one sampling trajectory of a 2-D Gaussian mixture with the data prediction x̂₀ at
#                         every step.
# Needs gnuplot ≥ 5.2 with the pngcairo and svg terminals (Debian: gnuplot-nox).

if (!exists("datadir")) datadir = "build/plots"
if (!exists("imgdir")) imgdir = "docs/img"
set encoding utf8

# ---------------------------------------------------------------------------------------------------
# Styles. Colour = order (Okabe–Ito, safe for colour-blind readers), solid = data prediction,
# dashed = noise prediction; grey/black = baselines, dotted = published fixed-step baselines.
# The block order of the data files fixes which style a solver gets (see convergence_data.cpp).
blue = "#0072B2"; vermillion = "#D55E00"; green = "#009E73"; purple = "#CC79A7"
grey = "#8C8C8C"; black = "#000000"
# probability-flow ODE: data k = 1, 2, 3; noise k = 1, 2, 3; data, noise k = 3 published rule;
# Euler; Heun; Euler published fixed step.
set style line 1 lc rgb blue dt 1 lw 2 pt 7 ps 0.9
set style line 2 lc rgb vermillion dt 1 lw 2 pt 5 ps 0.9
set style line 3 lc rgb green dt 1 lw 2 pt 9 ps 1.0
set style line 4 lc rgb blue dt (8, 5) lw 2 pt 6 ps 0.9
set style line 5 lc rgb vermillion dt (8, 5) lw 2 pt 4 ps 0.9
set style line 6 lc rgb green dt (8, 5) lw 2 pt 8 ps 1.0
set style line 7 lc rgb purple dt 1 lw 2 pt 13 ps 1.0
set style line 8 lc rgb purple dt (8, 5) lw 2 pt 12 ps 1.0
set style line 9 lc rgb grey dt 1 lw 2 pt 11 ps 1.0
set style line 10 lc rgb black dt 1 lw 2 pt 15 ps 0.9
set style line 11 lc rgb grey dt (2, 4) lw 2.5 pt 10 ps 1.0
# reverse SDE: data k = 1, 2; noise k = 1, 2; Euler–Maruyama; posterior sampling; both published fixed step.
set style line 21 lc rgb blue dt 1 lw 2 pt 7 ps 0.9
set style line 22 lc rgb vermillion dt 1 lw 2 pt 5 ps 0.9
set style line 23 lc rgb blue dt (8, 5) lw 2 pt 6 ps 0.9
set style line 24 lc rgb vermillion dt (8, 5) lw 2 pt 4 ps 0.9
set style line 25 lc rgb grey dt 1 lw 2 pt 11 ps 1.0
set style line 26 lc rgb black dt 1 lw 2 pt 15 ps 0.9
set style line 27 lc rgb grey dt (2, 4) lw 2.5 pt 10 ps 1.0
set style line 28 lc rgb black dt (2, 4) lw 2.5 pt 14 ps 1.0

# One terminal per format, with the same proportions (PNG: 1600×720 pixels; SVG: 1200×540, scalable).
set_terminal(fmt, width, height) = (fmt eq "png") \
    ? sprintf("set terminal pngcairo enhanced size %d,%d font 'DejaVu Sans,13' background rgb 'white'", width, height) \
    : sprintf("set terminal svg enhanced size %d,%d dynamic font 'DejaVu Sans,10' background rgb 'white'", \
              width * 3 / 4, height * 3 / 4)

# ---------------------------------------------------------------------------------------------------
# Error against NFE.
do for [figure in "convergence convergence_tables"] {
    ode = sprintf("%s/%s_ode.dat", datadir, figure)
    sde = sprintf("%s/%s_sde.dat", datadir, figure)
    if (figure eq "convergence") {
        heading = "Error against NFE — Gaussian data (64 elements), continuous cosine IR-SDE on [1, 100], linspace grids"
        note = "slopes: least squares of log error on log NFE over NFE ≥ 20"
        nfe_range = "[3.6:230]"
    } else {
        heading = "Error against NFE — the same data on the discrete IR-SDE tables (cosine, T = 100) that trained models use"
        note = "NFE dividing T = 100 (linspace grids on table nodes); slopes over NFE 20–100\n" \
             ."Heun levels off: f jumps at every node of the piecewise-linear α, σ"
        nfe_range = "[3.6:120]"
    }
    do for [fmt in "png svg"] {
        eval set_terminal(fmt, 1600, 1000)
        set output sprintf("%s/%s.%s", imgdir, figure, fmt)
        set multiplot layout 1, 2 title heading font ",15" margins 0.07, 0.98, 0.325, 0.90 spacing 0.07, 0.0
        set logscale xy
        eval "set xrange ".nfe_range
        set xtics (5, 10, 20, 50, 100, 200) nomirror
        set mxtics 10
        set ytics nomirror
        set format y "10^{%L}"
        set grid xtics ytics mxtics mytics lc rgb "#E5E5E5" lw 1, lc rgb "#F2F2F2" lw 0.5
        set border 3 lw 1.2
        set xlabel "NFE (network evaluations)"
        # The legend below each panel (it would hide curves inside), one solver per line.
        set key at graph 0.5, graph -0.15 center top Left reverse vertical maxrows 12 samplen 4 \
            spacing 1.05 box lc rgb "#BBBBBB" font ",11" width 1
        set label 1 note at graph 0.99, graph 0.985 right font ",10" tc rgb "#555555"

        set title "Probability-flow ODE" font ",14"
        set ylabel "max |x − x_{exact}|  (exact flow map)"
        plot for [i = 0:*] ode index i using 1:2 with linespoints ls (i + 1) \
            title columnheader(1)

        unset label 1
        set title "Reverse-time SDE" font ",14"
        set ylabel "weak error: max |Δmean|, |Δstd. dev.|  (exact moments)"
        plot for [i = 0:*] sde index i using 1:2 with linespoints ls (i + 21) \
            title columnheader(1)
        unset multiplot
        unset output
    }
}

# ---------------------------------------------------------------------------------------------------
# One sampling trajectory.
states = datadir."/trajectory_states.dat"
predictions = datadir."/trajectory_predictions.dat"
components = datadir."/trajectory_components.dat"
points = datadir."/trajectory_points.dat"
stats states using 1 index 0 nooutput
last_step = int(STATS_max)
array C[12] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", \
               "#882255", "#117733", "#332288", "#AA4499", "#999933", "#44AA99"]
colour(i) = C[(i % 12) + 1]

do for [fmt in "png svg"] {
    eval set_terminal(fmt, 1600, 720)
    set output sprintf("%s/trajectory.%s", imgdir, fmt)
    reset  # graph settings only (variables and line styles stay)
    set multiplot layout 1, 2 \
        title "One sampling trajectory — MR ODE, data prediction, order 2, NFE 20, 2-D Gaussian mixture, IR-SDE tables" \
        font ",15" margins 0.06, 0.98, 0.12, 0.86 spacing 0.08, 0.0

    # Left: the plane. Grey: the data (2-standard-deviation ellipses of the three components).
    set title "The plane: x_T = μ + λ_s z (open circles) flows to the data (dots)" font ",14"
    set xlabel "x_1"
    set ylabel "x_2"
    set size ratio -1
    set border 3 lw 1.2
    set xtics nomirror
    set ytics nomirror
    set grid lc rgb "#EEEEEE"
    set xrange [-0.05:1.55]
    set yrange [-0.1:1.15]
    set xtics 0.2
    set ytics 0.2
    set key top right box lc rgb "#BBBBBB" opaque font ",11" samplen 2.5 spacing 1.15
    plot components using 1:2 with filledcurves closed fc rgb "#E3E3E3" fs solid 1.0 notitle, \
         components using 1:2 with lines lc rgb "#A0A0A0" lw 1 title "data: components (2 s.d.)", \
         for [i = 0:*] predictions index i using 3:4 with points pt 1 ps 0.6 lc rgb colour(i) \
             notitle, \
         for [i = 0:*] states index i using 3:4 with lines lw 1.6 lc rgb colour(i) notitle, \
         for [i = 0:*] states index i every ::0::0 using 3:4 with points pt 6 ps 1.2 \
             lc rgb colour(i) notitle, \
         for [i = 0:*] states index i every ::last_step::last_step using 3:4 with points pt 7 \
             ps 1.1 lc rgb colour(i) notitle, \
         points every ::0::0 using 1:2 with points pt 3 ps 2.2 lw 2 lc rgb black title "μ (the condition)", \
         points every ::1 using 1:2 with points pt 2 ps 1.6 lw 2 lc rgb black title "component means", \
         points every ::1 using 1:2:3 with labels offset 0, 1.1 font ",10" tc rgb "#333333" notitle, \
         NaN with lines lw 1.6 lc rgb black title "state x_t", \
         NaN with points pt 1 ps 0.8 lc rgb black title "data prediction x̂_0"

    # Right: the first coordinate against time, sampling running left to right (t from 100 to 0).
    set title "First coordinate against time: state x_t (solid), data prediction x̂_0 (dashed)" font ",14"
    set size noratio
    set xtics autofreq
    set ytics autofreq
    set yrange [*:*]
    set xlabel "table time t  (sampling runs from t = 100 to t = 0)"
    set ylabel "x_1"
    set xrange [100:0]
    set key top left box lc rgb "#BBBBBB" opaque font ",11" samplen 3.5 spacing 1.15
    plot points every ::1 using (100):1:(-100):(0) with vectors nohead dt (2, 4) lw 1.2 lc rgb "#A0A0A0" \
             title "component means", \
         for [i = 0:*] states index i using 2:3 with linespoints lw 1.6 pt 7 ps 0.45 \
             lc rgb colour(i) notitle, \
         for [i = 0:*] predictions index i using 2:3 with linespoints dt (5, 4) lw 1.1 pt 1 \
             ps 0.6 lc rgb colour(i) notitle, \
         NaN with linespoints lw 1.6 pt 7 ps 0.45 lc rgb black title "state x_t", \
         NaN with linespoints dt (5, 4) lw 1.1 pt 1 ps 0.6 lc rgb black title "x̂_0 (evaluated at t)"
    unset multiplot
    unset output
}

# ---------------------------------------------------------------------------------------------------
# The coefficient families: α, σ and λ against t.
families = datadir."/families.dat"
do for [fmt in "png svg"] {
    eval set_terminal(fmt, 1600, 600)
    set output sprintf("%s/families.%s", imgdir, fmt)
    reset
    set multiplot layout 1, 3 title "The shipped coefficient families (T = 100, max\\_sigma = 50, eps = 0.005)" \
        font ",15" margins 0.05, 0.98, 0.14, 0.84 spacing 0.06, 0.0
    set grid lc rgb "#EEEEEE"
    set xlabel "t (table steps)"
    set xrange [0:100]
    set key top right font ",11"
    set title "α(t): how much of x_0 − μ is left" font ",14"
    plot families using 1:2 with lines lw 2 lc rgb "#0072B2" title "cosine table", \
         families using 1:5 with lines lw 2 lc rgb "#D55E00" title "linear table", \
         families using 1:8 with lines lw 2 dt (6, 4) lc rgb "#000000" title "continuous cosine"
    set title "σ(t): the noise standard deviation" font ",14"
    set key bottom right
    plot families using 1:3 with lines lw 2 lc rgb "#0072B2" title "cosine table", \
         families using 1:6 with lines lw 2 lc rgb "#D55E00" title "linear table", \
         families using 1:9 with lines lw 2 dt (6, 4) lc rgb "#000000" title "continuous cosine"
    set title "λ(t) = ln(α/σ): the half log-SNR the solvers step in" font ",14"
    set key top right
    plot families using 1:4 with lines lw 2 lc rgb "#0072B2" title "cosine table", \
         families using 1:7 with lines lw 2 lc rgb "#D55E00" title "linear table", \
         families using 1:10 with lines lw 2 dt (6, 4) lc rgb "#000000" title "continuous cosine"
    unset multiplot
    unset output
}
