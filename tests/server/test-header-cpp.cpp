// The public server header compiles as C++.
#include <spice-sideband/server.h>

int
main()
{
    ssb_server_stats stats = {};
    ssb_server_done_fn fn = nullptr;

    (void)fn;
    return static_cast<int>(stats.clients);
}
