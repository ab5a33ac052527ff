/* The public header stands alone in strict C99 (and C++, test-header.cpp). */
#include <spice-sideband/client.h>

int
main(void)
{
    SsbRect rect = { 0, 0, 1, 1 };
    SsbScanoutInfo info = { 0, 1, 1, 0 };

    return (int)(rect.x + info.display_channel_id) + (ssb_client_get_type() == 0);
}
