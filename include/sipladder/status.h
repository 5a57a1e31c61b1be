/* status.h - return codes shared by every sipladder module. */
#ifndef SIPLADDER_STATUS_H
#define SIPLADDER_STATUS_H

/* Functions return 0 or one of these negated (e.g. -SL_EMALFORMED). */
enum {
    SL_OK = 0,
    SL_ETRUNC = 1,     /* input ends before the structure does */
    SL_EMALFORMED = 2, /* input contradicts its own format */
    SL_ENOMEM = 3,     /* allocation failed */
    SL_ELIMIT = 4,     /* a configured cap was reached */
    SL_EIO = 5,        /* the operating system refused a read or write */
    SL_EUSAGE = 6,     /* the caller asked for something invalid */
};

/* Static text for a code (positive or negated); never NULL. */
const char *sl_strerror(int code);

#endif
