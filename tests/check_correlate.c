/* check_correlate.c - correlation (src/correlate.c) on real captures: the
 * three required cases recorded by tests/captures/make_correlation_captures.py
 * (one call seen on two hops, through a proxy and through a B2BUA; two calls
 * whose CSeq collide; a re-INVITE on a new TCP connection), testdata/sip and
 * the shared corpus, each count checked by hand against tshark -Y sip.  Then
 * a Via-chain join and 100,000 calls on synthetic records. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipladder/analysis.h"
#include "sipladder/calls.h"
#include "sipladder/model.h"
#include "sipladder/render.h"
#include "sipladder/render_json.h"
#include "sipladder/sip_record.h"
#include "check_run.h"
#include "support.h"

/* A capture through the pipeline with its calls (support.h). */
typedef struct loaded {
    sl_test_run run;
    const sl_model *m;
    sl_calls *c;
} loaded;

/* A file of the repository ("testdata/...") or of the corpus ("corpus/...");
 * a missing one skips the test. */
static void load(loaded *l, const char *rel)
{
    sl_test_run_data(&l->run, rel, &(sl_test_opts){.calls = true});
    l->m = l->run.m;
    l->c = l->run.calls;
}

static void unload(loaded *l) { sl_test_run_free(&l->run); }

static const char *addr_text(const sl_calls *c, uint32_t host, char *buf, size_t len)
{
    ck_assert_uint_lt(host, c->n_hosts);
    return sl_addr_format(&c->hosts[host].addr, buf, len);
}

static const sl_host *host_named(const sl_calls *c, const char *text)
{
    sl_addr a;
    ck_assert_int_eq(sl_addr_parse(text, &a), 0);
    int h = sl_calls_host_of(c, &a);
    ck_assert_msg(h >= 0, "no host %s", text);
    return &c->hosts[h];
}

static void assert_leg(const sl_calls *c, uint32_t leg, const char *from, const char *to, uint32_t hop)
{
    char a[64], b[64];
    const sl_leg *l = &c->legs[leg];
    ck_assert_str_eq(addr_text(c, l->host[0], a, sizeof a), from);
    ck_assert_str_eq(addr_text(c, l->host[1], b, sizeof b), to);
    ck_assert_uint_eq(l->hop, hop);
}

static uint64_t frame_of(const sl_sip_record *r)
{
    ck_assert_ptr_nonnull(r);
    return r->span.last_frame;
}

static bool str_is(sl_sip_str s, const char *c)
{
    return s.p && s.n == strlen(c) && memcmp(s.p, c, s.n) == 0;
}

/* ---- the three required cases --------------------------------------------- */

/* tshark: frames 1 (caller INVITE) and 2 (the proxy's, one Via more) ...
 * 8 (200 to the caller); same Call-ID on both hops. */
START_TEST(two_hops_through_a_proxy_are_one_call)
{
    loaded l;
    load(&l, "testdata/correlation/two-hop-proxy-udp.pcap");
    ck_assert_uint_eq(l.m->n_sip, 14);
    ck_assert_uint_eq(l.c->n_calls, 1);
    const sl_call *k = &l.c->calls[0];
    ck_assert_uint_eq(k->n_legs, 2);
    ck_assert_uint_eq(k->n_messages, 14);
    assert_leg(l.c, k->legs[0], "10.252.1.1", "10.252.1.2", 0);
    assert_leg(l.c, k->legs[1], "10.252.2.2", "10.252.2.3", 1);
    ck_assert_int_eq(k->outcome, SL_CALL_ANSWERED);
    ck_assert_int_eq(k->final_status, 200);
    ck_assert_uint_eq(frame_of(k->decided_by), 8);
    ck_assert_uint_eq(frame_of(k->initial), 1);
    ck_assert(str_is(k->caller, "sip:alice@example.com"));
    ck_assert(str_is(k->callee, "sip:bob@example.com"));
    for (size_t i = 0; i < 2; i++) {
        const sl_leg *g = &l.c->legs[k->legs[i]];
        ck_assert_uint_eq(g->n_messages, 7);
        ck_assert_uint_eq(g->n_transactions, 3); /* INVITE (+ its responses), ACK of the 2xx, BYE */
        ck_assert_uint_eq(g->n_dialogs, 1);
        ck_assert(l.c->dialogs[g->dialogs[0]].confirmed);
        ck_assert(l.c->dialogs[g->dialogs[0]].terminated);
        ck_assert_uint_eq(g->n_conns, 1);
    }
    /* The proxy added the zone Vias: both its addresses are an Expressway. */
    const sl_host *out = host_named(l.c, "10.252.2.2"), *in = host_named(l.c, "10.252.1.2");
    ck_assert_str_eq(out->label, "Expressway (zone CUCMZone)");
    ck_assert_int_eq(out->source, SL_LABEL_ZONE);
    ck_assert_str_eq(in->label, "Expressway (zone DefaultZone)");
    ck_assert_str_eq(in->role, "expressway");
    /* The callee's Server names it; the proxy relayed that Server, which
     * must not make the proxy a CUCM. */
    const sl_host *callee = host_named(l.c, "10.252.2.3");
    ck_assert_str_eq(callee->label, "CUCM 11.5");
    ck_assert_str_eq(callee->role, "cucm");
    ck_assert_str_eq(host_named(l.c, "10.252.1.1")->label, "10.252.1.1");
    ck_assert_int_eq(sl_calls_call_of(l.c, l.m->sip[5]), 0);
    unload(&l);
}
END_TEST

/* The B2BUA changes the Call-ID (tshark: frame 2 b2b-1df4...) but keeps
 * Session-ID and X-TAATag. */
START_TEST(two_hops_through_a_b2bua_are_one_call)
{
    loaded l;
    load(&l, "testdata/correlation/two-hop-b2bua-udp.pcap");
    ck_assert_uint_eq(l.c->n_calls, 1);
    const sl_call *k = &l.c->calls[0];
    ck_assert_uint_eq(k->n_legs, 2);
    const sl_leg *l0 = &l.c->legs[k->legs[0]], *l1 = &l.c->legs[k->legs[1]];
    ck_assert(str_is(l0->call_id, "corr-b2bua-1@10.252.1.1"));
    ck_assert(str_is(l1->call_id, "b2b-1df4361d7a1b4889@10.252.2.2"));
    assert_leg(l.c, k->legs[0], "10.252.1.1", "10.252.1.2", 0);
    assert_leg(l.c, k->legs[1], "10.252.2.2", "10.252.2.3", 1);
    ck_assert_int_eq(k->outcome, SL_CALL_ANSWERED);
    ck_assert_uint_eq(frame_of(k->decided_by), 8);
    ck_assert_str_eq(host_named(l.c, "10.252.1.2")->label, "Expressway (X12.5.4)");
    ck_assert_int_eq(host_named(l.c, "10.252.1.2")->source, SL_LABEL_PRODUCT);
    ck_assert_str_eq(host_named(l.c, "10.252.2.3")->label, "CUCM 11.5");
    unload(&l);
}
END_TEST

/* tshark: INVITE collide-1 (frame 1) and collide-2 (3), both "1 INVITE",
 * same hosts; 200 for the first (6), 486 for the second (7); ACKs 8, 9;
 * BYE 10, 200 11.  Both carry remote=0000... in Session-ID. */
START_TEST(colliding_cseq_stays_two_calls)
{
    loaded l;
    load(&l, "testdata/correlation/cseq-collision-udp.pcap");
    ck_assert_uint_eq(l.c->n_calls, 2);
    ck_assert_uint_eq(l.c->n_legs, 2);
    const sl_call *a = &l.c->calls[0], *b = &l.c->calls[1];
    ck_assert_uint_eq(a->id, 1);
    ck_assert_uint_eq(b->id, 2);
    ck_assert_int_eq(a->outcome, SL_CALL_ANSWERED);
    ck_assert_uint_eq(frame_of(a->decided_by), 6);
    ck_assert_int_eq(b->outcome, SL_CALL_REJECTED);
    ck_assert_int_eq(b->final_status, 486);
    ck_assert_uint_eq(frame_of(b->decided_by), 7);
    ck_assert_uint_eq(a->n_messages, 6);
    ck_assert_uint_eq(b->n_messages, 5);
    const sl_leg *lb = &l.c->legs[b->legs[0]];
    ck_assert_uint_eq(lb->n_transactions, 1); /* the ACK of the 486 is part of the INVITE */
    const sl_transaction *t = &l.c->transactions[lb->transactions[0]];
    ck_assert_uint_eq(t->n_responses, 3);
    ck_assert_uint_eq(frame_of(t->ack), 9);
    ck_assert_uint_eq(t->request_copies, 1);
    const sl_leg *la = &l.c->legs[a->legs[0]];
    ck_assert_uint_eq(la->n_transactions, 3);
    const sl_transaction *inv = &l.c->transactions[la->transactions[0]];
    ck_assert_uint_eq(frame_of(inv->ack), 8); /* the 2xx ACK, found through the dialog */
    unload(&l);
}
END_TEST

/* tshark: tcp.stream 0 carries INVITE 4, 100 6, 200 8, ACK 10, BYE 21,
 * 200 23; stream 1, opened by the callee, the re-INVITE 15, 200 17, ACK 19. */
START_TEST(reinvite_on_a_new_connection_joins_its_dialog)
{
    loaded l;
    load(&l, "testdata/correlation/reinvite-new-tcp-connection.pcap");
    ck_assert_uint_eq(l.c->n_calls, 1);
    ck_assert_uint_eq(l.c->n_legs, 1);
    ck_assert_uint_eq(l.c->n_dialogs, 1);
    const sl_leg *g = &l.c->legs[0];
    ck_assert_uint_eq(g->n_conns, 2);
    ck_assert_uint_eq(g->n_messages, 9);
    ck_assert_uint_eq(g->n_transactions, 5);
    const sl_dialog *d = &l.c->dialogs[0];
    ck_assert_uint_eq(d->n_transactions, 5);
    ck_assert(d->confirmed);
    ck_assert(d->terminated);
    ck_assert(str_is(d->from_tag, "alice1"));
    ck_assert(str_is(d->to_tag, "bob1"));
    const sl_transaction *first = &l.c->transactions[d->transactions[0]];
    const sl_transaction *re = &l.c->transactions[d->transactions[2]];
    ck_assert_uint_eq(frame_of(first->request), 4);
    ck_assert_uint_eq(frame_of(re->request), 15);
    ck_assert_uint_ne(first->request->conn_index, re->request->conn_index);
    ck_assert_uint_eq(re->dialog, 0);
    ck_assert_uint_eq(frame_of(re->final), 17);
    ck_assert_uint_eq(frame_of(re->ack), 19);
    ck_assert_int_eq(l.c->calls[0].outcome, SL_CALL_ANSWERED);
    ck_assert_uint_eq(frame_of(l.c->calls[0].decided_by), 8);
    unload(&l);
}
END_TEST

/* ---- testdata/sip ---------------------------------------------------------- */

START_TEST(testdata_udp_call)
{
    loaded l;
    load(&l, "testdata/sip/udp-call-invite-100-180-200-ack-bye.pcap");
    ck_assert_uint_eq(l.c->n_calls, 1);
    ck_assert_uint_eq(l.c->n_registrations, 0);
    ck_assert_uint_eq(l.c->n_transactions, 3);
    ck_assert_int_eq(l.c->calls[0].outcome, SL_CALL_ANSWERED);
    ck_assert_uint_eq(frame_of(l.c->calls[0].decided_by), 4);
    unload(&l);
}
END_TEST

/* --max-call-messages on the same call (INVITE 100 180 200 ACK BYE 200):
 * a cap of 3 keeps the first three by frame and counts the other four, and
 * the calls view, the summary and the ladder title say so. */
static char *render_to_string(int (*view)(const sl_report *, const sl_render_opts *), const sl_report *rep)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    sl_render_opts o = {.out = f};
    ck_assert_int_eq(view(rep, &o), 0);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

START_TEST(max_call_messages_cap)
{
    loaded l;
    load(&l, "testdata/sip/udp-call-invite-100-180-200-ack-bye.pcap");
    ck_assert_uint_eq(l.c->calls[0].n_messages, 7);
    ck_assert_uint_eq(l.c->calls[0].messages_not_kept, 0);
    sl_calls *capped = sl_calls_build(l.m, NULL, 3);
    ck_assert_ptr_nonnull(capped);
    ck_assert_uint_eq(capped->n_calls, 1);
    const sl_call *k = &capped->calls[0];
    ck_assert_uint_eq(k->n_messages, 3);
    ck_assert_uint_eq(k->messages_not_kept, 4);
    for (size_t i = 0; i < 3; i++)
        ck_assert_ptr_eq(k->messages[i], l.c->calls[0].messages[i]);
    /* The call's span still covers the messages not kept. */
    ck_assert(k->last_ts == l.c->calls[0].last_ts);

    sl_report rep = {.model = l.m, .calls = capped};
    char *text = render_to_string(sl_render_calls, &rep);
    ck_assert_msg(strstr(text, "3 msg (+4 not kept: --max-call-messages)"), "calls view: %s", text);
    free(text);
    text = render_to_string(sl_render_summary, &rep);
    ck_assert_msg(strstr(text, "call 1: 4 SIP messages after its first 3 were not kept (--max-call-messages)"),
                  "summary: %s", text);
    free(text);
    text = render_to_string(sl_render_ladder_text, &rep);
    ck_assert_msg(strstr(text, "(4 later messages not kept: --max-call-messages)"), "ladder: %s", text);
    free(text);
    /* Uncapped, no view mentions it. */
    rep.calls = l.c;
    text = render_to_string(sl_render_calls, &rep);
    ck_assert_ptr_null(strstr(text, "not kept"));
    free(text);
    sl_calls_free(capped);
    unload(&l);
}
END_TEST

/* The capture starts after the INVITE: its 100, 180, 200 (frames 1-3) join
 * the call of their Call-ID with its ACK and BYE; a 200 to an OPTIONS whose
 * Call-ID no request carries (frame 7) is listed as an orphan, never a call
 * "? -> ?", in the calls view, the ladder and JSON (issue 14). */
START_TEST(orphan_responses_join_their_call_or_stay_orphans)
{
    loaded l;
    load(&l, "testdata/siprefresh/orphan-responses-udp.pcap");
    ck_assert_uint_eq(l.c->n_calls, 1);
    const sl_call *k = &l.c->calls[0];
    ck_assert_uint_eq(k->n_messages, 6);
    ck_assert_uint_eq(frame_of(k->messages[0]), 1);
    ck_assert_ptr_nonnull(k->caller.p);
    ck_assert_ptr_nonnull(k->callee.p);
    ck_assert_uint_eq(l.c->n_orphan_responses, 1);
    ck_assert_uint_eq(frame_of(l.c->orphan_responses[0]), 7);
    ck_assert_int_eq(sl_calls_call_of(l.c, l.c->orphan_responses[0]), -1);

    sl_report rep = {.model = l.m, .calls = l.c};
    char *text = render_to_string(sl_render_calls, &rep);
    ck_assert_msg(strstr(text, "Calls: 1\n"), "calls view: %s", text);
    ck_assert_msg(strstr(text, "Responses without their request (not a call"), "calls view: %s", text);
    ck_assert_msg(strstr(text, "ping-gone@10.249.1.1"), "calls view: %s", text);
    ck_assert_ptr_null(strstr(text, "Not correlated"));
    free(text);
    text = render_to_string(sl_render_ladder_text, &rep);
    ck_assert_msg(strstr(text, "Call 1: sip:alice@example.test -> sip:bob@example.test"), "ladder: %s", text);
    ck_assert_ptr_null(strstr(text, "Call 2"));
    ck_assert_ptr_null(strstr(text, "? -> ?"));
    free(text);
    text = render_to_string(sl_render_json, &rep);
    const char *loose = strstr(text, "\n  \"messages\": [");
    ck_assert_msg(loose != NULL, "json: %s", text);
    ck_assert_msg(strstr(loose, "\"note\": \"response without its request"), "json: %s", loose);
    ck_assert_msg(strstr(loose, "ping-gone@10.249.1.1"), "json: %s", loose);
    ck_assert_ptr_null(strstr(text, "\"caller\": null"));
    free(text);
    unload(&l);
}
END_TEST

/* INVITE -> 407 -> ACK and no retry: challenged, not rejected, in every
 * view; the challenge answered with credentials then 403 stays rejected. */
START_TEST(lone_challenge_is_challenged_not_rejected)
{
    loaded l;
    load(&l, "testdata/sipverdicts/invite-407-alone.pcap");
    ck_assert_uint_eq(l.c->n_calls, 1);
    ck_assert_int_eq(l.c->calls[0].outcome, SL_CALL_CHALLENGED);
    ck_assert_int_eq(l.c->calls[0].final_status, 407);
    ck_assert_str_eq(sl_call_outcome_name(SL_CALL_CHALLENGED), "challenged");
    sl_report rep = {.model = l.m, .calls = l.c};
    char *text = render_to_string(sl_render_calls, &rep);
    ck_assert_msg(strstr(text, "challenged 407 (frame 2; the retry is not in the capture)"), "calls: %s", text);
    ck_assert_ptr_null(strstr(text, "rejected"));
    free(text);
    text = render_to_string(sl_render_ladder_text, &rep);
    ck_assert_msg(strstr(text, "challenged 407 (the retry is not in the capture)"), "ladder: %s", text);
    free(text);
    text = render_to_string(sl_render_json, &rep);
    ck_assert_msg(strstr(text, "\"outcome\": \"challenged\""), "json: %s", text);
    free(text);
    unload(&l);
    load(&l, "testdata/sipverdicts/invite-407-retry-403.pcap");
    ck_assert_int_eq(l.c->calls[0].outcome, SL_CALL_REJECTED);
    ck_assert_int_eq(l.c->calls[0].final_status, 403);
    unload(&l);
}
END_TEST

/* REGISTER (frame 4) -> 401, REGISTER with credentials -> 200 expires=120
 * in the Contact; AR_SK offered and answered. */
START_TEST(testdata_register_mra)
{
    loaded l;
    load(&l, "testdata/sip/tcp-register-401-200-mra-ar-sk.pcap");
    ck_assert_uint_eq(l.c->n_calls, 0);
    ck_assert_uint_eq(l.c->n_legs, 0);
    ck_assert_uint_eq(l.c->n_registrations, 1);
    const sl_registration *g = &l.c->registrations[0];
    ck_assert(str_is(g->aor, "sip:mra01@10.251.1.2"));
    ck_assert_uint_eq(g->n_transactions, 2);
    ck_assert_int_eq(g->last_status, 200);
    ck_assert(g->auth_challenged);
    ck_assert(!g->auth_failed);
    ck_assert_int_eq(g->expires, 120);
    ck_assert(g->ar_sk_offered);
    ck_assert(g->ar_sk_supported);
    ck_assert_uint_eq(l.c->transactions[g->transactions[0]].leg, SL_CALLS_NONE);
    ck_assert_str_eq(l.c->hosts[g->host[1]].label, "CUCM 12.5");
    unload(&l);
}
END_TEST

/* Two messages in one segment: an INVITE call and an OPTIONS of its own. */
START_TEST(testdata_two_in_one_segment)
{
    loaded l;
    load(&l, "testdata/sip/tcp-two-messages-one-segment.pcap");
    ck_assert_uint_eq(l.c->n_calls, 2);
    ck_assert_int_eq(l.c->calls[0].outcome, SL_CALL_ANSWERED);
    ck_assert_int_eq(l.c->calls[1].outcome, SL_CALL_OTHER);
    ck_assert_int_eq(l.c->calls[1].final_status, 200);
    unload(&l);
}
END_TEST

/* ---- the shared corpus ----------------------------------------------------- */

/* tshark: INVITE 105090259-... at 223, resent 225 and 227; 100 (228);
 * CANCEL 247 with a Via without port, resent 10 times to 272; 408 to the
 * INVITE (252), ACK 253, 408 to the CANCEL (274).  Three more calls:
 * 407 -> INVITE with credentials -> 403 (321..349), 407 -> 403 (548..582),
 * 407 -> 480 (602..622).  REGISTERs for three AORs. */
START_TEST(corpus_register_invite_cancel)
{
    loaded l;
    load(&l, "corpus/sip-udp-register-invite-cancel-synretrans__suricata-verify.pcap");
    ck_assert_uint_eq(l.c->n_calls, 4);
    const sl_call *k = &l.c->calls[0];
    ck_assert_uint_eq(frame_of(k->initial), 223);
    ck_assert_int_eq(k->outcome, SL_CALL_REJECTED);
    ck_assert_int_eq(k->final_status, 408);
    ck_assert_uint_eq(frame_of(k->decided_by), 252);
    ck_assert_uint_eq(k->n_messages, 18);
    const sl_leg *g = &l.c->legs[k->legs[0]];
    ck_assert_uint_eq(g->n_transactions, 1);
    const sl_transaction *t = &l.c->transactions[g->transactions[0]];
    ck_assert_uint_eq(t->request_copies, 3);
    ck_assert_uint_eq(t->duplicates, 0);
    ck_assert_uint_eq(frame_of(t->cancel), 247);
    ck_assert_uint_eq(t->cancel_copies, 11);
    ck_assert_uint_eq(frame_of(t->cancel_response), 274);
    ck_assert_uint_eq(frame_of(t->ack), 253);
    int want[] = {403, 403, 480};
    uint64_t by[] = {348, 581, 621};
    for (size_t i = 1; i < 4; i++) {
        ck_assert_int_eq(l.c->calls[i].outcome, SL_CALL_REJECTED);
        ck_assert_int_eq(l.c->calls[i].final_status, want[i - 1]);
        ck_assert_uint_eq(frame_of(l.c->calls[i].decided_by), by[i - 1]);
    }
    ck_assert_uint_eq(l.c->n_registrations, 3);
    const sl_registration *r0 = &l.c->registrations[0];
    ck_assert(str_is(r0->aor, "sip:voi18063@sip.cybercity.dk"));
    ck_assert_uint_eq(r0->n_transactions, 4);
    ck_assert(r0->auth_challenged);
    ck_assert(r0->auth_failed);
    ck_assert_int_eq(r0->last_status, 401);
    const sl_registration *r2 = &l.c->registrations[2];
    ck_assert_uint_eq(r2->n_transactions, 8);
    ck_assert_int_eq(r2->last_status, 200);
    ck_assert(!r2->auth_failed);
    ck_assert_int_eq(r2->expires, 1200);
    unload(&l);
}
END_TEST

/* The grouping alone (what the call stream asks to tell which calls have
 * ended) is the full build's grouping, without labels or registrations. */
START_TEST(group_only_is_the_same_grouping)
{
    loaded l;
    load(&l, "corpus/sip-udp-register-invite-cancel-synretrans__suricata-verify.pcap");
    sl_calls *g = sl_calls_group(l.m);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->n_calls, l.c->n_calls);
    ck_assert_uint_eq(g->n_legs, l.c->n_legs);
    ck_assert_uint_eq(g->n_dialogs, l.c->n_dialogs);
    ck_assert_uint_eq(g->n_transactions, l.c->n_transactions);
    for (size_t i = 0; i < l.c->n_calls; i++) {
        ck_assert_uint_eq(g->calls[i].n_messages, l.c->calls[i].n_messages);
        ck_assert_uint_eq(g->calls[i].n_conns, l.c->calls[i].n_conns);
        ck_assert_int_eq(g->calls[i].outcome, l.c->calls[i].outcome);
    }
    for (size_t i = 0; i < l.m->n_sip; i++)
        ck_assert_int_eq(sl_calls_call_of(g, l.m->sip[i]), sl_calls_call_of(l.c, l.m->sip[i]));
    ck_assert_uint_eq(l.c->n_registrations, 3);
    ck_assert_uint_eq(g->n_registrations, 0);
    for (size_t i = 0; i < g->n_hosts; i++)
        ck_assert_ptr_null(g->hosts[i].label);
    sl_calls_free(g);
    unload(&l);
}
END_TEST

/* tshark: one Call-ID through a proxy (…:3519) on IPv6, INVITE 2 from
 * …:1521, relayed to …:4222; the 200 to the caller is frame 28. */
START_TEST(corpus_ipv6_proxy)
{
    loaded l;
    load(&l, "corpus/sll-ipv6-fragmented-sip-proxy__sngrep.pcap");
    ck_assert_uint_eq(l.c->n_calls, 1);
    const sl_call *k = &l.c->calls[0];
    ck_assert_uint_eq(k->n_legs, 2);
    assert_leg(l.c, k->legs[0], "fd17:625c:f037:2:a00:27ff:feb9:1521", "fd17:625c:f037:2:a00:27ff:feb9:3519", 0);
    assert_leg(l.c, k->legs[1], "fd17:625c:f037:2:a00:27ff:feb9:3519", "fd17:625c:f037:2:a00:27ff:feb9:4222", 1);
    ck_assert_int_eq(k->outcome, SL_CALL_ANSWERED);
    ck_assert_uint_eq(frame_of(k->decided_by), 28);
    /* A fork: 183s with To tags ...Tag01... (6) and ...Tag02... (16), each
     * an early dialog of the one INVITE on both hops. */
    for (size_t i = 0; i < 2; i++) {
        const sl_leg *g = &l.c->legs[k->legs[i]];
        ck_assert_uint_eq(g->n_dialogs, 2);
        const sl_dialog *d0 = &l.c->dialogs[g->dialogs[0]], *d1 = &l.c->dialogs[g->dialogs[1]];
        ck_assert(str_is(d0->to_tag, "1632476SIPpTag0171847"));
        ck_assert(str_is(d1->to_tag, "1632476SIPpTag0271847"));
        ck_assert_uint_eq(d0->transactions[0], d1->transactions[0]);
        ck_assert(d0->confirmed || d1->confirmed);
    }
    unload(&l);
}
END_TEST

/* tshark: SUBSCRIBE/NOTIFY dialogs and INVITE calls through an SBC on two
 * address pairs (inner addresses of ERSPAN).  Call-ID bf3880-…: INVITE 53
 * -> 407 (59), INVITE CSeq 2 (61) -> 200 (80): answered, not rejected. */
START_TEST(corpus_erspan_refer)
{
    loaded l;
    load(&l, "corpus/sip-udp-erspan-refer-bye__heplify.pcapng");
    ck_assert_uint_eq(l.c->n_calls, 7);
    const sl_call *k = &l.c->calls[4];
    ck_assert_uint_eq(frame_of(k->initial), 53);
    ck_assert_int_eq(k->outcome, SL_CALL_ANSWERED);
    ck_assert_uint_eq(frame_of(k->decided_by), 80);
    ck_assert_uint_eq(k->n_legs, 2);
    assert_leg(l.c, k->legs[0], "180.173.83.248", "101.231.48.19", 0);
    assert_leg(l.c, k->legs[1], "192.168.1.222", "192.168.1.191", 1);
    const sl_call *refer = &l.c->calls[2]; /* ddd141...: INVITE 21, REFER 111/116 (407, 488), BYE 120 */
    ck_assert_uint_eq(frame_of(refer->initial), 21);
    ck_assert_int_eq(refer->outcome, SL_CALL_ANSWERED);
    ck_assert_uint_eq(frame_of(refer->decided_by), 32);
    ck_assert_int_eq(l.c->calls[0].outcome, SL_CALL_OTHER); /* SUBSCRIBE */
    ck_assert_int_eq(l.c->calls[0].final_status, 202);
    unload(&l);
}
END_TEST

/* tshark: REGISTER 28 -> proxy -> 30, 401s 31/32; with credentials 33/34
 * -> 200 35/36.  The To URI differs per hop, so two AORs. */
START_TEST(corpus_register_through_proxy)
{
    loaded l;
    load(&l, "corpus/sip-tcp-udp-register-retrans-sll__heplify.pcap");
    ck_assert_uint_eq(l.c->n_calls, 0);
    ck_assert_uint_eq(l.c->n_registrations, 2);
    for (size_t i = 0; i < 2; i++) {
        const sl_registration *g = &l.c->registrations[i];
        ck_assert_uint_eq(g->n_transactions, 2);
        ck_assert_int_eq(g->last_status, 200);
        ck_assert(g->auth_challenged);
        ck_assert(!g->auth_failed);
    }
    ck_assert_int_eq(l.c->registrations[0].expires, 60);
    ck_assert_int_eq(l.c->registrations[1].expires, 600);
    unload(&l);
}
END_TEST

/* ---- synthetic records ----------------------------------------------------- */

typedef struct synth {
    sl_sip_record *recs;
    sl_sip_record **ptrs;
    sl_sip_via *vias;
    char *text;
    size_t n, n_vias, text_len, cap_text;
} synth;

/* fmt: "PREFIX%uMID%u" parts: prefix, a, mid, b (b omitted when mid is NULL). */
static sl_sip_str synth_str(synth *s, const char *prefix, unsigned a, const char *mid, unsigned b)
{
    char buf[128];
    int n = mid ? snprintf(buf, sizeof buf, "%s%u%s%u", prefix, a, mid, b) : snprintf(buf, sizeof buf, "%s%u", prefix, a);
    if (n <= 0 || (size_t)n >= sizeof buf || s->text_len + (size_t)n > s->cap_text) /* not ck_assert: hot loop */
        ck_abort_msg("synthetic text does not fit");
    char *p = s->text + s->text_len;
    memcpy(p, buf, (size_t)n);
    s->text_len += (size_t)n;
    return (sl_sip_str){p, (size_t)n};
}

static sl_sip_record *synth_rec(synth *s, bool request, const char *method_or_status, uint32_t src, uint32_t dst)
{
    sl_sip_record *r = &s->recs[s->n];
    memset(r, 0, sizeof *r);
    s->ptrs[s->n++] = r;
    r->f.is_request = request;
    sl_sip_str m = {method_or_status, strlen(method_or_status)};
    if (request)
        r->f.method = m;
    else
        r->f.status_code = atoi(method_or_status);
    r->f.has_cseq = true;
    r->f.cseq = 1;
    r->f.cseq_method = request ? m : (sl_sip_str){"INVITE", 6};
    r->f.reason_cause = r->f.warning_code = r->f.max_forwards = -1;
    r->f.expires = r->f.content_length = -1;
    r->src.family = r->dst.family = 4;
    memcpy(r->src.bytes, (uint8_t[]){10, (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src}, 4);
    memcpy(r->dst.bytes, (uint8_t[]){10, (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst}, 4);
    r->sport = r->dport = 5060;
    r->span.first_frame = r->span.last_frame = s->n;
    r->span.first_ts = r->span.last_ts = (sl_time_ns)s->n * 1000000;
    r->conn_index = 1;
    return r;
}

static void synth_vias(synth *s, sl_sip_record *r, const sl_sip_via *v, size_t n)
{
    sl_sip_via *dst = &s->vias[s->n_vias];
    memcpy(dst, v, n * sizeof *v);
    s->n_vias += n;
    r->f.vias = dst;
    r->f.n_vias = n;
}

static void synth_init(synth *s, size_t recs, size_t vias, size_t text)
{
    memset(s, 0, sizeof *s);
    s->recs = malloc(recs * sizeof *s->recs);
    s->ptrs = malloc(recs * sizeof *s->ptrs);
    s->vias = calloc(vias, sizeof *s->vias);
    s->text = malloc(text);
    s->cap_text = text;
    ck_assert(s->recs && s->ptrs && s->vias && s->text);
}

static void synth_free(synth *s)
{
    free(s->recs);
    free(s->ptrs);
    free(s->vias);
    free(s->text);
}

static sl_calls *synth_calls(synth *s)
{
    sl_model m;
    memset(&m, 0, sizeof m);
    m.sip = (struct sl_sip_record **)s->ptrs;
    m.n_sip = s->n;
    return sl_calls_build(&m, NULL, 0);
}

/* A hop that changes the Call-ID and keeps no header in common: only its
 * Vias (the inbound leg's below its own) tie the legs. */
START_TEST(via_chain_joins_legs)
{
    synth s;
    synth_init(&s, 8, 8, 1024);
    sl_sip_via caller = {.transport = {"UDP", 3}, .host = {"10.0.0.1", 8}, .port = {"5060", 4},
                         .branch = {"z9hG4bKcaller1", 14}};
    sl_sip_via proxy = {.transport = {"UDP", 3}, .host = {"10.0.0.2", 8}, .port = {"5060", 4},
                        .branch = {"z9hG4bKproxy1", 13}};
    sl_sip_via other = {.transport = {"UDP", 3}, .host = {"10.0.0.9", 8}, .port = {"5060", 4},
                        .branch = {"z9hG4bKcaller2", 14}};
    sl_sip_record *r = synth_rec(&s, true, "INVITE", 1, 2);
    r->f.call_id = synth_str(&s, "in-", 1, "@", 0);
    synth_vias(&s, r, &caller, 1);
    r = synth_rec(&s, true, "INVITE", 2, 3);
    r->f.call_id = synth_str(&s, "out-", 1, "@", 0);
    synth_vias(&s, r, (sl_sip_via[]){proxy, caller}, 2);
    r = synth_rec(&s, true, "INVITE", 9, 2); /* unrelated, same CSeq */
    r->f.call_id = synth_str(&s, "in-", 2, "@", 0);
    synth_vias(&s, r, &other, 1);
    sl_calls *c = synth_calls(&s);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_legs, 3);
    ck_assert_uint_eq(c->n_calls, 2);
    ck_assert_uint_eq(c->calls[0].n_legs, 2);
    ck_assert_uint_eq(c->legs[c->calls[0].legs[1]].hop, 1);
    ck_assert_int_eq(c->calls[0].outcome, SL_CALL_NO_ANSWER);
    ck_assert_uint_eq(c->calls[1].n_legs, 1);
    sl_calls_free(c);
    synth_free(&s);
}
END_TEST

/* The same INVITE seen twice within SL_CALLS_DUPLICATE_NS is one copy seen
 * twice; again 500 ms later, a retransmission. */
START_TEST(duplicates_are_not_retransmissions)
{
    synth s;
    synth_init(&s, 4, 4, 256);
    sl_sip_via v = {.transport = {"UDP", 3}, .host = {"10.0.0.1", 8}, .branch = {"z9hG4bKdup", 10}};
    for (int i = 0; i < 3; i++) {
        sl_sip_record *r = synth_rec(&s, true, "INVITE", 1, 2);
        r->f.call_id = synth_str(&s, "dup-", 1, "@", 0);
        r->span.last_ts = i == 2 ? 600000000 : i * 1000;
        synth_vias(&s, r, &v, 1);
    }
    sl_calls *c = synth_calls(&s);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_transactions, 1);
    ck_assert_uint_eq(c->transactions[0].request_copies, 2);
    ck_assert_uint_eq(c->transactions[0].duplicates, 1);
    sl_calls_free(c);
    synth_free(&s);
}
END_TEST

/* RFC 2543 branches: the transaction is Call-ID + CSeq + From tag + top
 * Via; the response finds its INVITE, the ACK of the 486 joins it.  A
 * Cisco-Guid shared by two Call-IDs makes them one call. */
START_TEST(pre_rfc3261_transactions_and_cisco_guid)
{
    synth s;
    synth_init(&s, 8, 8, 512);
    sl_sip_via v = {.transport = {"UDP", 3}, .host = {"10.0.0.1", 8}, .port = {"5060", 4}, .branch = {"1", 1}};
    sl_sip_via w = {.transport = {"UDP", 3}, .host = {"10.0.0.2", 8}, .port = {"5060", 4}, .branch = {"1", 1}};
    sl_sip_str guid = {"1234-5678-9abc-def0", 19};
    sl_sip_record *r = synth_rec(&s, true, "INVITE", 1, 2);
    r->f.call_id = synth_str(&s, "old-", 1, "@", 1);
    r->f.from_tag = synth_str(&s, "ft", 1, NULL, 0);
    r->f.cisco_guid = guid;
    synth_vias(&s, r, &v, 1);
    sl_sip_record *resp = synth_rec(&s, false, "486", 2, 1);
    resp->f.call_id = r->f.call_id;
    resp->f.from_tag = r->f.from_tag;
    resp->f.to_tag = synth_str(&s, "tt", 1, NULL, 0);
    synth_vias(&s, resp, &v, 1);
    sl_sip_record *ack = synth_rec(&s, true, "ACK", 1, 2);
    ack->f.call_id = r->f.call_id;
    ack->f.from_tag = r->f.from_tag;
    ack->f.to_tag = resp->f.to_tag;
    ack->f.cseq_method = (sl_sip_str){"ACK", 3};
    synth_vias(&s, ack, &v, 1);
    sl_sip_record *out = synth_rec(&s, true, "INVITE", 2, 3); /* the next hop, another Call-ID */
    out->f.call_id = synth_str(&s, "old-", 2, "@", 2);
    out->f.from_tag = synth_str(&s, "ft", 2, NULL, 0);
    out->f.cisco_guid = guid;
    synth_vias(&s, out, &w, 1);
    sl_calls *c = synth_calls(&s);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_transactions, 2);
    const sl_transaction *t = &c->transactions[0];
    ck_assert_ptr_eq(t->final, resp);
    ck_assert_ptr_eq(t->ack, ack);
    ck_assert_uint_eq(c->n_calls, 1);
    ck_assert_uint_eq(c->calls[0].n_legs, 2);
    ck_assert_int_eq(c->calls[0].outcome, SL_CALL_REJECTED);
    ck_assert_int_eq(c->calls[0].final_status, 486);
    sl_calls_free(c);
    synth_free(&s);
}
END_TEST

static sl_conn synth_conn(uint32_t index, uint32_t a, uint32_t b, int first_s, int last_s)
{
    sl_conn c;
    memset(&c, 0, sizeof c);
    c.index = index;
    c.info.transport = SL_TRANSPORT_TCP;
    c.info.conn_index = index;
    for (int i = 0; i < 2; i++) {
        uint32_t h = i ? b : a;
        c.info.addr[i].family = 4;
        memcpy(c.info.addr[i].bytes, (uint8_t[]){10, (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h}, 4);
        c.info.port[i] = i ? 5061 : 40000;
    }
    c.first_ts = (sl_time_ns)first_s * 1000000000;
    c.last_ts = (sl_time_ns)last_s * 1000000000;
    return c;
}

/* Connections that carried no SIP (a TLS leg) go to the one call whose host
 * and time they share, else to orphan_conns. */
START_TEST(silent_connections_attach_or_stay_orphans)
{
    synth s;
    synth_init(&s, 4, 4, 256);
    sl_sip_via v = {.transport = {"UDP", 3}, .host = {"10.0.0.1", 8}, .branch = {"z9hG4bKx1", 9}};
    sl_sip_via w = {.transport = {"UDP", 3}, .host = {"10.0.0.3", 8}, .branch = {"z9hG4bKx2", 9}};
    sl_sip_record *r = synth_rec(&s, true, "INVITE", 1, 2); /* call 1: .1 -> .2 at 1 s */
    r->f.call_id = synth_str(&s, "conn-", 1, "@", 1);
    r->span.first_ts = r->span.last_ts = 1000000000;
    synth_vias(&s, r, &v, 1);
    r = synth_rec(&s, true, "INVITE", 3, 4); /* call 2: .3 -> .4 at 1 s */
    r->f.call_id = synth_str(&s, "conn-", 2, "@", 2);
    r->span.first_ts = r->span.last_ts = 1000000000;
    r->conn_index = 6;
    synth_vias(&s, r, &w, 1);
    sl_conn conns[6] = {
        synth_conn(1, 2, 9, 2, 5),   /* .2 <-> .9, within 2 s: call 1 */
        synth_conn(2, 7, 8, 1, 2),   /* no host of a call */
        synth_conn(3, 1, 3, 1, 2),   /* hosts of both calls: ambiguous */
        synth_conn(4, 2, 9, 60, 61), /* call 1's host, a minute later */
        synth_conn(5, 4, 9, 0, 1),   /* call 2 */
        synth_conn(6, 3, 4, 0, 2),   /* carried call 2's SIP */
    };
    sl_model m;
    memset(&m, 0, sizeof m);
    m.sip = (struct sl_sip_record **)s.ptrs;
    m.n_sip = s.n;
    m.conns = conns;
    m.n_conns = 6;
    s.recs[0].conn_index = 0; /* no connection known */
    sl_calls *c = sl_calls_build(&m, NULL, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_calls, 2);
    ck_assert_uint_eq(c->calls[0].n_conns, 1);
    ck_assert_uint_eq(c->calls[0].conns[0], 1);
    ck_assert_uint_eq(c->calls[1].n_conns, 2);
    ck_assert_uint_eq(c->calls[1].conns[0], 5);
    ck_assert_uint_eq(c->calls[1].conns[1], 6);
    ck_assert_uint_eq(c->legs[c->calls[1].legs[0]].n_conns, 1);
    ck_assert_uint_eq(c->n_orphan_conns, 3);
    ck_assert_uint_eq(c->orphan_conns[0], 2);
    ck_assert_uint_eq(c->orphan_conns[1], 3);
    ck_assert_uint_eq(c->orphan_conns[2], 4);
    ck_assert_uint_eq(c->hosts[0].flows, 1);
    sl_calls_free(c);
    synth_free(&s);
}
END_TEST

#define PERF_CALLS 100000u

/* 100,000 calls (INVITE and 200 each, 1,000 host pairs, all CSeq 1) stay
 * 100,000 calls.  Speed is the benchmark's business (bench/), not a timed
 * test's: the CPU time is printed for information only. */
START_TEST(hundred_thousand_calls_stay_apart)
{
    synth s;
    synth_init(&s, 2 * PERF_CALLS, 2 * PERF_CALLS, 2 * PERF_CALLS * 64);
    for (unsigned i = 0; i < PERF_CALLS; i++) {
        uint32_t a = 1 + i % 1000, b = 100000 + i % 1000;
        sl_sip_via v = {.transport = {"UDP", 3}, .host = {"10.1.1.1", 8}};
        v.branch = synth_str(&s, "z9hG4bK", i, "-", a);
        sl_sip_record *r = synth_rec(&s, true, "INVITE", a, b);
        r->f.call_id = synth_str(&s, "perf-", i, "@", a);
        r->f.from_tag = synth_str(&s, "f", i, NULL, 0);
        synth_vias(&s, r, &v, 1);
        sl_sip_record *resp = synth_rec(&s, false, "200", b, a);
        resp->f.call_id = r->f.call_id;
        resp->f.from_tag = r->f.from_tag;
        resp->f.to_tag = synth_str(&s, "t", i, NULL, 0);
        synth_vias(&s, resp, &v, 1);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0); /* CPU time: other jobs on the machine do not count */
    sl_calls *c = synth_calls(&s);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "check_correlate: %u calls (%zu messages) correlated in %.3f s of CPU\n", PERF_CALLS, s.n, secs);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_calls, PERF_CALLS);
    ck_assert_uint_eq(c->n_transactions, PERF_CALLS);
    ck_assert_uint_eq(c->n_dialogs, PERF_CALLS);
    ck_assert_int_eq(c->calls[PERF_CALLS - 1].outcome, SL_CALL_ANSWERED);
    ck_assert_int_eq(sl_calls_call_of(c, s.ptrs[2 * PERF_CALLS - 1]), (int)PERF_CALLS - 1);
    sl_calls_free(c);
    synth_free(&s);
}
END_TEST

START_TEST(empty_model_and_free_null)
{
    sl_model m;
    memset(&m, 0, sizeof m);
    sl_calls *c = sl_calls_build(&m, NULL, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_calls, 0);
    ck_assert_uint_eq(c->n_hosts, 0);
    sl_addr a = {.family = 4};
    ck_assert_int_eq(sl_calls_host_of(c, &a), -1);
    sl_calls_free(c);
    sl_calls_free(NULL);
    ck_assert_str_eq(sl_call_outcome_name(SL_CALL_CANCELLED), "cancelled");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("correlate");
    TCase *t = tcase_create("captures");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, two_hops_through_a_proxy_are_one_call);
    tcase_add_test(t, two_hops_through_a_b2bua_are_one_call);
    tcase_add_test(t, colliding_cseq_stays_two_calls);
    tcase_add_test(t, reinvite_on_a_new_connection_joins_its_dialog);
    tcase_add_test(t, testdata_udp_call);
    tcase_add_test(t, max_call_messages_cap);
    tcase_add_test(t, testdata_register_mra);
    tcase_add_test(t, testdata_two_in_one_segment);
    tcase_add_test(t, orphan_responses_join_their_call_or_stay_orphans);
    tcase_add_test(t, lone_challenge_is_challenged_not_rejected);
    tcase_add_test(t, corpus_register_invite_cancel);
    tcase_add_test(t, group_only_is_the_same_grouping);
    tcase_add_test(t, corpus_ipv6_proxy);
    tcase_add_test(t, corpus_erspan_refer);
    tcase_add_test(t, corpus_register_through_proxy);
    suite_add_tcase(s, t);
    TCase *y = tcase_create("synthetic");
    tcase_set_timeout(y, 120);
    tcase_add_test(y, via_chain_joins_legs);
    tcase_add_test(y, duplicates_are_not_retransmissions);
    tcase_add_test(y, pre_rfc3261_transactions_and_cisco_guid);
    tcase_add_test(y, silent_connections_attach_or_stay_orphans);
    tcase_add_test(y, hundred_thousand_calls_stay_apart);
    tcase_add_test(y, empty_model_and_free_null);
    suite_add_tcase(s, y);
    return s;
}

int main(void)
{
    return sl_check_run(suite());
}
