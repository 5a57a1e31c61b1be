/* render_json.h - the `json` view: one JSON document (docs/sipladder.schema.json,
 * "schema": "sipladder/1") holding the capture, hosts, connections with their
 * TCP events and TLS handshakes, calls with every SIP message, registrations
 * and diagnoses; or, as JSON Lines, one line for the capture then one line
 * per call.
 *
 * Capture bytes are never trusted to be UTF-8: an invalid sequence becomes
 * U+FFFD, the message that held it says "escaped": true, and the capture
 * counts such strings in "strings_replaced".  Control bytes (NUL, ESC) are
 * valid UTF-8 and come out as JSON escapes (\u0000, \u001b). */
#ifndef SIPLADDER_RENDER_JSON_H
#define SIPLADDER_RENDER_JSON_H

#include <jansson.h>

#include "sipladder/render.h"

#define SL_JSON_SCHEMA_ID "sipladder/1"

/* The whole document, owned by the caller (json_decref), or NULL when out
 * of memory.  r and o are borrowed; o->out is not used.  When r->calls is
 * NULL "calls" and "registrations" are empty and every SIP message is in the
 * top-level "messages"; when r->diagnoses is NULL "diagnoses" is empty. */
json_t *sl_json_document(const sl_report *r, const sl_render_opts *o);

/* The JSON Lines form as an array of line objects (owned), or NULL when out
 * of memory: [0] the capture line ("type": "capture"), then one "type":
 * "call" line per call with its diagnoses. */
json_t *sl_json_lines(const sl_report *r, const sl_render_opts *o);

/* Write to o->out the document (indented) or the lines (compact, one per
 * line).  0, or -1 when out of memory or the write failed. */
int sl_render_json(const sl_report *r, const sl_render_opts *o);
int sl_render_jsonl(const sl_report *r, const sl_render_opts *o);

#endif
