#!/bin/sh
# A slow report: four steps of a second each.  When it is done it writes
# report.txt; the user may well give up waiting before that.
printf 'Content-Type: text/plain\r\n\r\n'
echo "Building the report (4 steps of 1 s)..."
i=1
while [ $i -le 4 ]; do
	sleep 1
	echo "step $i of 4 done"
	i=$((i + 1))
done
date '+%H:%M:%S.%3N report finished' > "${REPORT_DIR:-/tmp}/report.txt"
echo "Report finished."
