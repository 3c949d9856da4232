#!/usr/bin/env bash
# The time of the cli module's slow test classes, one class after another or N at a time (surefire forkCount):
#   scripts/test-times.sh                 # forkCount 1 (as ./build runs them), the default classes
#   scripts/test-times.sh 2               # two test JVMs, classes in parallel
#   scripts/test-times.sh 1 'ChaosTest'   # other classes (surefire's -Dtest syntax)
# Prints each class's seconds (from cli/target/surefire-reports), the wall time and the CPU seconds of the whole run
# (Maven, the test JVMs and every JVM they started). The default classes take about 5 minutes with forkCount 1 on
# an idle 2-core host. Compare forkCount 1 and 2 on the same host, twice each: 2 pays only where the cores idle
# (a JVM's single-threaded start-up, emulated stragglers' sleeps); its tests must pass both times.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/scripts/find-java.sh" || exit 2
cd "$here"
forks="${1:-1}"
classes="${2:-ChaosTest,ProcessChaosTest,MultiProcessTest,ElasticProcessTest,MultiProcessCheckpointTest,ElasticTakeoverProcessTest}"
./mvnw -B -ntp -q -pl cli -am test-compile >/dev/null
rm -rf cli/target/surefire-reports
load="$(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
status=0
/usr/bin/time -f "%U %S" -o /tmp/test-times.$$ ./mvnw -B -ntp -q -pl cli -am test -DforkCount="$forks" -Dtest="$classes" \
  -Dsurefire.failIfNoSpecifiedTests=false >/tmp/test-times.$$.log 2>&1 || status=$?
end=$(date +%s.%N)
for f in cli/target/surefire-reports/TEST-*.xml; do
  sed -n 's/.*<testsuite [^>]*name="\([^"]*\)" time="\([^"]*\)".*/\2 s  \1/p; s/.*<testsuite [^>]*time="\([^"]*\)"[^>]* name="\([^"]*\)".*/\1 s  \2/p' "$f" | head -1
done
read -r user sys </tmp/test-times.$$
printf 'forkCount %s: wall %.0f s, CPU %.0f s (load average before: %s)\n' "$forks" "$(echo "$end - $start" | bc)" \
  "$(echo "$user + $sys" | bc)" "$load"
if [ "$status" -ne 0 ]; then grep -E "FAIL|Tests run:.*Fail" /tmp/test-times.$$.log | head -20; fi
rm -f /tmp/test-times.$$ /tmp/test-times.$$.log
exit "$status"
