/* Layouts of the transmit-error counter maps (herald_tx_errors.bpf.c). Mirrored by src/datapath/tx-errors.ts. */
#ifndef HERALD_TX_ERRORS_H
#define HERALD_TX_ERRORS_H

#include <linux/types.h>

#define HERALD_TX_MAX_WATCHED 256
#define HERALD_TX_MAX_COUNTERS 1024

/* herald_tx_watch key, 8 bytes: an interface Herald attached to, in its network namespace (nsfs inode). */
struct herald_tx_watch_key {
	__u32 netns;
	__u32 ifindex;
};

/* herald_tx_errors key, 8 bytes: the interface and the XDP action the kernel could not carry out. */
struct herald_tx_key {
	__u32 ifindex;
	__u32 action;
};

/* herald_tx_errors value (per CPU), 8 bytes. */
struct herald_tx_count {
	__u64 frames;
};

#endif
