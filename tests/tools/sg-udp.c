/*
 * sg-udp - sends one UDP datagram given in hex and prints the reply in hex.
 * A test tool: it lets the end-to-end tests send DNS bytes no real client
 * would (malformed, hostile) and see whether anything answers.
 *
 *   sg-udp ADDRESS PORT HEX [TIMEOUT_MS]
 *
 * Exit status: 0 and the reply's hex on stdout, 3 on timeout, 2 on usage or
 * socket errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (s[0] != '\0' && s[1] != '\0') {
		if (n == cap || sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return s[0] == '\0' ? (int)n : -1;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	unsigned char msg[65536], reply[65536];
	struct pollfd pfd;
	socklen_t slen;
	ssize_t n;
	int fd, len, timeout = argc > 4 ? atoi(argv[4]) : 2000;

	if (argc < 4 || (len = unhex(argv[3], msg, sizeof(msg))) < 0) {
		fprintf(stderr, "usage: sg-udp address port hex [timeout_ms]\n");
		return 2;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[1], &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)atoi(argv[2]));
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, argv[1], &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)atoi(argv[2]));
		slen = sizeof(*sin6);
	} else {
		fprintf(stderr, "sg-udp: bad address %s\n", argv[1]);
		return 2;
	}
	if ((fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&ss, slen) == -1 ||
	    send(fd, msg, (size_t)len, 0) != len) {
		perror("sg-udp");
		return 2;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout) <= 0) {
		printf("timeout\n");
		return 3;
	}
	if ((n = recv(fd, reply, sizeof(reply), 0)) < 0) {
		/* ICMP port unreachable and the like */
		printf("error %s\n", strerror(errno));
		return 2;
	}
	for (ssize_t i = 0; i < n; i++)
		printf("%02x", reply[i]);
	printf("\n");
	return 0;
}
