/* Unit tests: link layers stripped to the IP packet. */
#include <criterion/criterion.h>
#include <pcap/dlt.h>
#include <string.h>

#include "capture.h"

static const uint8_t ip4[] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0,
	10, 0, 0, 1, 10, 0, 0, 2 };

Test(capture, ethernet_and_vlans)
{
	uint8_t f[64], mac[6];
	const uint8_t *ip;
	size_t len;
	bool has;

	memset(f, 0, sizeof(f));
	memcpy(f + 6, "\x02\x11\x22\x33\x44\x55", 6);
	f[12] = 0x81; f[13] = 0x00;		/* 802.1Q */
	f[16] = 0x81; f[17] = 0x00;		/* QinQ */
	f[20] = 0x08; f[21] = 0x00;
	memcpy(f + 22, ip4, sizeof(ip4));
	cr_assert_eq(capture_strip_link(DLT_EN10MB, f, 22 + sizeof(ip4), &ip,
	    &len, mac, &has), 1);
	cr_assert_eq(ip, f + 22);
	cr_assert_eq(len, sizeof(ip4));
	cr_assert(has);
	cr_assert_eq(mac[0], 0x02);
	cr_assert_eq(mac[5], 0x55);
	f[21] = 0x06;				/* ARP */
	cr_assert_eq(capture_strip_link(DLT_EN10MB, f, 22 + sizeof(ip4), &ip,
	    &len, mac, &has), 0);
	/* Cut inside the tags */
	cr_assert_eq(capture_strip_link(DLT_EN10MB, f, 15, &ip, &len, mac,
	    &has), 0);
}

Test(capture, linux_cooked_and_null)
{
	uint8_t f[64], mac[6];
	const uint8_t *ip;
	size_t len;
	bool has;

	memset(f, 0, sizeof(f));
	f[3] = 1;				/* ARPHRD_ETHER */
	f[5] = 6;				/* address length */
	f[14] = 0x86; f[15] = 0xdd;		/* IPv6 */
	f[16] = 0x60;
	cr_assert_eq(capture_strip_link(DLT_LINUX_SLL, f, 56, &ip, &len, mac,
	    &has), 1);
	cr_assert_eq(ip, f + 16);
	cr_assert(has);

	memset(f, 0, sizeof(f));
	f[0] = 2;				/* AF_INET, little-endian */
	memcpy(f + 4, ip4, sizeof(ip4));
	cr_assert_eq(capture_strip_link(DLT_NULL, f, 4 + sizeof(ip4), &ip,
	    &len, mac, &has), 1);
	cr_assert_eq(ip, f + 4);
	cr_assert_not(has);
	f[0] = 17;				/* something else */
	cr_assert_eq(capture_strip_link(DLT_NULL, f, 4 + sizeof(ip4), &ip,
	    &len, mac, &has), 0);
	cr_assert_eq(capture_strip_link(DLT_RAW, ip4, sizeof(ip4), &ip, &len,
	    mac, &has), 1);
	cr_assert_eq(capture_strip_link(12345, ip4, sizeof(ip4), &ip, &len,
	    mac, &has), 0);
}
