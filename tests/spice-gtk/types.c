/* spice-gtk-types: prints what the GType system knows of libspice-client-gtk's
 * public types (instance and class sizes, properties, signals, enum
 * values), one fact per line, sorted by the caller.  Run against Debian's
 * library and the patched one to compare their ABI beyond symbol names.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>

#include <spice-client-gtk.h>

static void
print_signals(GType type, const char *type_name)
{
    guint n_ids = 0;
    g_autofree guint *ids = g_signal_list_ids(type, &n_ids);

    for (guint i = 0; i < n_ids; i++) {
        GSignalQuery q;

        g_signal_query(ids[i], &q);
        printf("signal %s %s flags=%u return=%s", type_name, q.signal_name,
               (unsigned)q.signal_flags, g_type_name(q.return_type));
        for (guint p = 0; p < q.n_params; p++)
            printf(" %s", g_type_name(q.param_types[p] & ~G_SIGNAL_TYPE_STATIC_SCOPE));
        printf("\n");
    }
}

static void
print_object(GType type)
{
    GTypeQuery q;
    GObjectClass *klass = g_type_class_ref(type);
    guint n_props = 0;
    g_autofree GParamSpec **props = g_object_class_list_properties(klass, &n_props);

    g_type_query(type, &q);
    printf("type %s parent=%s instance=%u class=%u\n", q.type_name,
           g_type_name(g_type_parent(type)), q.instance_size, q.class_size);
    for (guint i = 0; i < n_props; i++) {
        if (props[i]->owner_type != type)
            continue;
        printf("property %s %s %s flags=%u\n", q.type_name, props[i]->name,
               g_type_name(props[i]->value_type),
               props[i]->flags & (G_PARAM_READWRITE | G_PARAM_CONSTRUCT |
                                  G_PARAM_CONSTRUCT_ONLY));
    }
    print_signals(type, q.type_name);
    g_type_class_unref(klass);
}

static void
print_enum(GType type)
{
    GEnumClass *klass = g_type_class_ref(type);

    for (guint i = 0; i < klass->n_values; i++)
        printf("enum %s %s=%d\n", g_type_name(type), klass->values[i].value_nick,
               klass->values[i].value);
    g_type_class_unref(klass);
}

int
main(void)
{
    print_object(SPICE_TYPE_DISPLAY);
    print_object(SPICE_TYPE_GTK_SESSION);
    print_object(SPICE_TYPE_USB_DEVICE_WIDGET);
    print_enum(SPICE_TYPE_DISPLAY_KEY_EVENT);
    printf("boxed %s\n", g_type_name(SPICE_TYPE_GRAB_SEQUENCE));
    return 0;
}
