/* Minimal test helpers: checks report file:line and make the program fail,
 * without stopping it, so one run lists every broken case.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdio.h>
#include <string.h>

extern int test_failures;
extern int test_checks;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        test_checks++;                                                              \
        if (!(cond)) {                                                              \
            test_failures++;                                                        \
            fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                                        \
    do {                                                                            \
        test_checks++;                                                              \
        if (!(cond)) {                                                              \
            test_failures++;                                                        \
            fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
        }                                                                           \
    } while (0)

#define TEST_MAIN_DEFINE_COUNTERS int test_failures, test_checks

static inline int test_finish(const char *name)
{
    printf("%s: %d checks, %d failures\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}
