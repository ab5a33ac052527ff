#!/bin/sh
# Draws the soak's RSS and fd curves from its samples:
#   soak-plot.sh SOAK.csv OUT.png
# (SSB_SOAK_CSV=SOAK.csv when running test-soak; gnuplot needed.)
set -eu
[ $# -eq 2 ] || { echo "usage: $0 SOAK.csv OUT.png" >&2; exit 2; }
csv=$1 png=$2
command -v gnuplot > /dev/null || { echo "$0: gnuplot not found" >&2; exit 1; }
gnuplot <<PLOT
set datafile separator ','
set terminal pngcairo size 900,520 font ',10'
set output '$png'
set key autotitle columnhead below horizontal
set xlabel 'time (min)'
set ylabel 'MiB'
set y2label 'open fds'
set ytics nomirror
set y2tics
set autoscale xfix
set yrange [0:*]
set y2range [0:*]
set grid
set title 'soak: 4 scanouts, sessions alternating local and remote (H.264)'
plot '$csv' using (\$1/60):(\$4/1024) with linespoints pt 7 ps 0.4 title 'VMM RSS', \
     '' using (\$1/60):(\$6/1024) with linespoints pt 7 ps 0.4 title 'client RSS', \
     '' using (\$1/60):(\$10/1024) with lines lw 2 title 'VMM heap in use', \
     '' using (\$1/60):(\$11/1024) with lines lw 2 dt 3 title 'client heap in use', \
     '' using (\$1/60):5 axes x1y2 with steps title 'VMM fds', \
     '' using (\$1/60):7 axes x1y2 with steps dt 2 title 'client fds'
PLOT
