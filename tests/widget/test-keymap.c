/* The evdev -> PC AT set-1 table of client/gtk/keymap.c: spot checks against
 * the set-1 tables, complete coverage of the 105-key layout and keypad, no
 * two keys of that layout sharing a code, and the encoding handed to
 * spice_inputs_channel_key_press().
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

#include <linux/input-event-codes.h>

static void
test_spot_checks(void)
{
    static const struct { guint evdev, xt; } cases[] = {
        { KEY_ESC, 0x01 }, { KEY_A, 0x1e }, { KEY_B, 0x30 }, { KEY_Z, 0x2c },
        { KEY_ENTER, 0x1c }, { KEY_SPACE, 0x39 }, { KEY_LEFTSHIFT, 0x2a },
        { KEY_RIGHTSHIFT, 0x36 }, { KEY_LEFTCTRL, 0x1d }, { KEY_LEFTALT, 0x38 },
        { KEY_F1, 0x3b }, { KEY_F10, 0x44 }, { KEY_F11, 0x57 }, { KEY_F12, 0x58 },
        { KEY_102ND, 0x56 }, { KEY_KP0, 0x52 }, { KEY_KPDOT, 0x53 },
        { KEY_KPENTER, 0xe01c }, { KEY_RIGHTCTRL, 0xe01d }, { KEY_KPSLASH, 0xe035 },
        { KEY_RIGHTALT, 0xe038 }, { KEY_HOME, 0xe047 }, { KEY_UP, 0xe048 },
        { KEY_PAGEUP, 0xe049 }, { KEY_LEFT, 0xe04b }, { KEY_RIGHT, 0xe04d },
        { KEY_END, 0xe04f }, { KEY_DOWN, 0xe050 }, { KEY_PAGEDOWN, 0xe051 },
        { KEY_INSERT, 0xe052 }, { KEY_DELETE, 0xe053 }, { KEY_LEFTMETA, 0xe05b },
        { KEY_RIGHTMETA, 0xe05c }, { KEY_COMPOSE, 0xe05d }, { KEY_SYSRQ, 0xe037 },
        { KEY_MUTE, 0xe020 }, { KEY_VOLUMEDOWN, 0xe02e }, { KEY_VOLUMEUP, 0xe030 },
        { KEY_PLAYPAUSE, 0xe022 }, { KEY_NEXTSONG, 0xe019 }, { KEY_POWER, 0xe05e },
        { KEY_RO, 0x73 }, { KEY_YEN, 0x7d }, { KEY_HENKAN, 0x79 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmphex(ssb_keymap_evdev_to_xt(cases[i].evdev), ==, cases[i].xt);
    g_assert_cmpuint(ssb_keymap_evdev_to_xt(0), ==, 0);
    g_assert_cmpuint(ssb_keymap_evdev_to_xt(100000), ==, 0);
}

/* Every key of a 105-key keyboard plus the keypad has a code, and no two
 * share one. */
static void
test_full_layout(void)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    guint n = 0;

    for (guint evdev = KEY_ESC; evdev <= KEY_KPDOT; evdev++) {
        guint xt = ssb_keymap_evdev_to_xt(evdev);
        g_assert_cmphex(xt, ==, evdev); /* 1..83 are identical in set 1 */
        g_assert_false(g_hash_table_contains(seen, GUINT_TO_POINTER(xt)));
        g_hash_table_add(seen, GUINT_TO_POINTER(xt));
        n++;
    }
    static const guint rest[] = {
        KEY_102ND, KEY_F11, KEY_F12, KEY_KPENTER, KEY_RIGHTCTRL, KEY_KPSLASH, KEY_SYSRQ,
        KEY_RIGHTALT, KEY_HOME, KEY_UP, KEY_PAGEUP, KEY_LEFT, KEY_RIGHT, KEY_END, KEY_DOWN,
        KEY_PAGEDOWN, KEY_INSERT, KEY_DELETE, KEY_PAUSE, KEY_LEFTMETA, KEY_RIGHTMETA,
        KEY_COMPOSE,
    };
    for (guint i = 0; i < G_N_ELEMENTS(rest); i++) {
        guint xt = ssb_keymap_evdev_to_xt(rest[i]);
        g_assert_cmphex(xt, !=, 0);
        g_assert_false(g_hash_table_contains(seen, GUINT_TO_POINTER(xt)));
        g_hash_table_add(seen, GUINT_TO_POINTER(xt));
        n++;
    }
    g_assert_cmpuint(n, ==, 83 + 22); /* 105 keys with the keypad */
}

static void
test_spice_encoding(void)
{
    g_assert_cmphex(ssb_keymap_xt_to_spice(0x1e), ==, 0x1e);
    g_assert_cmphex(ssb_keymap_xt_to_spice(0xe01c), ==, 0x11c);
    g_assert_cmphex(ssb_keymap_xt_to_spice(0xe05b), ==, 0x15b);
    g_assert_cmphex(ssb_keymap_xt_to_spice(0xf2), ==, 0xf2);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keymap/spot-checks", test_spot_checks);
    g_test_add_func("/keymap/full-layout", test_full_layout);
    g_test_add_func("/keymap/spice-encoding", test_spice_encoding);
    return g_test_run();
}
