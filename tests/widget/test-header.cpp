/* The widget's public header compiles on its own as C99 and as C++.
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <spice-sideband/display.h>

int
main(void)
{
    GType (*get_type)(void) = ssb_display_get_type;
    GtkWidget *(*make)(SsbClient *, SpiceSession *, guint) = ssb_display_new;

    return get_type == NULL || make == NULL;
}
