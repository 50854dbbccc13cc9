#!/bin/sh
B=/tmp/s12robust_prefer
while kill -0 21144 2>/dev/null; do sleep 5; done
echo "p0_1 finished $(date -u +%H:%M:%S) load=[$(cut -d' ' -f1-3 /proc/loadavg)]" >> chain.log
run() { name=$1; shift; s=$(date +%s); l0=$(cut -d' ' -f1-3 /proc/loadavg); GOMAXPROCS=1 nice -n 19 $B overopt --env checker/MountainCarRock-v0 --loop-steps 20000 --steps 300000 --points 12 --members 5 --lambda 1 --out $name --json "$@" > $name.out 2> $name.err; echo "$name rc=$? wall=$(( $(date +%s)-s ))s load_start=[$l0] load_end=[$(cut -d' ' -f1-3 /proc/loadavg)] args=$*" >> chain.log; }
run screen10 --labels 10 --objective mean --seed 1 --seeds 10
