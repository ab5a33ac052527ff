/* The public server header compiles as strict C99 (no _GNU_SOURCE). */
#include <spice-sideband/server.h>

int
main(void)
{
    struct ssb_server_options opts;
    struct ssb_server_stats stats = { 0 };

    (void)opts;
    return (int)stats.clients;
}
