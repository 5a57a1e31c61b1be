/* pcap_floor.c - the floor of the benchmark: a bare libpcap read loop that
 * touches every record (sums caplen) and does nothing else.  No tool reading
 * the capture through libpcap can be faster than this.
 * Build: cc -O2 -o pcap_floor pcap_floor.c $(pkg-config --cflags --libs libpcap) */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const unsigned char *data;
    unsigned long long bytes = 0, frames = 0;
    unsigned int x = 0;
    pcap_t *p;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: pcap_floor CAPTURE\n");
        return 2;
    }
    p = pcap_open_offline(argv[1], err);
    if (p == NULL) {
        fprintf(stderr, "pcap_floor: %s\n", err);
        return 3;
    }
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        bytes += h->caplen;
        frames++;
        /* one byte read per frame so the data pointer is used */
        if (h->caplen > 0)
            x += data[0];
    }
    if (rc == PCAP_ERROR)
        fprintf(stderr, "pcap_floor: %s\n", pcap_geterr(p));
    pcap_close(p);
    printf("%llu frames %llu bytes %u\n", frames, bytes, x);
    return rc == PCAP_ERROR ? 4 : 0;
}
