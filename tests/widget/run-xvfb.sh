#!/bin/bash
# run-xvfb.sh PROGRAM [ARGS]...: runs PROGRAM on a private Xvfb.
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
. "$(dirname "$0")/lib.sh"
start_xvfb
"$@"
