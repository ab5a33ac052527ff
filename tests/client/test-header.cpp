// The public header compiles as C++.
#include <spice-sideband/client.h>

int
main()
{
    SsbDmabufInfo info = {};
    return static_cast<int>(info.n_planes) + (ssb_frame_get_type() == 0);
}
