/* tls_session.c - a connection's TLS handshake folded from its events, and the
 * outcome rules of SCENARIOS.md: which side rejected which certificate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/status.h"
#include "sipladder/tls_session.h"

sl_tls_session *sl_tls_session_new(void) { return calloc(1, sizeof(sl_tls_session)); }

static void free_strs(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

static void chain_clear(sl_tls_chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        sl_cert_info_unref(c->certs[i]);
    free(c->certs);
    memset(c, 0, sizeof *c);
}

void sl_tls_session_free(sl_tls_session *s)
{
    if (!s)
        return;
    free(s->sni);
    free_strs(s->alpn, s->n_alpn);
    free(s->alpn_selected);
    free_strs(s->ca_names, s->n_ca_names);
    chain_clear(&s->chain[0]);
    chain_clear(&s->chain[1]);
    free(s->alerts);
    free(s->steps);
    free(s);
}

/* ------------------------------------------------------------------ folding */

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* Owned copy of n strings; *out NULL and -SL_ENOMEM on failure. */
static int dup_strs(const char *const *src, size_t n, char ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return 0;
    char **a = calloc(n, sizeof *a);
    if (!a)
        return -SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(a[i] = dup_str(src[i]))) {
            free_strs(a, i);
            return -SL_ENOMEM;
        }
    }
    *out = a;
    *n_out = n;
    return 0;
}

static sl_tls_mark mark_of(const sl_event *ev) { return (sl_tls_mark){ev->span.last_frame, ev->span.last_ts}; }

static void mark_first(sl_tls_mark *m, const sl_event *ev)
{
    if (!m->frame)
        *m = mark_of(ev);
}

static int on_client_hello(sl_tls_session *s, const sl_event *ev, const sl_tls_client_hello *ch)
{
    s->client_hello = mark_of(ev);
    s->n_client_hellos++;
    s->sslv2_hello = ch->sslv2;
    s->ch_legacy_version = ch->legacy_version;
    s->n_ch_versions = ch->n_supported_versions;
    memcpy(s->ch_versions, ch->supported_versions, sizeof s->ch_versions);
    s->n_ch_sig_algs = ch->n_sig_algs;
    memcpy(s->ch_sig_algs, ch->sig_algs, sizeof s->ch_sig_algs);
    s->n_cipher_suites = ch->n_cipher_suites;
    free(s->sni);
    s->sni = dup_str(ch->sni);
    free_strs(s->alpn, s->n_alpn);
    int rc = dup_strs(ch->alpn, ch->n_alpn, &s->alpn, &s->n_alpn);
    return (ch->sni && !s->sni) ? -SL_ENOMEM : rc;
}

static int on_server_hello(sl_tls_session *s, const sl_event *ev, const sl_tls_server_hello *sh)
{
    if (sh->hello_retry_request) {
        s->hello_retry = mark_of(ev);
        return 0;
    }
    s->server_hello = mark_of(ev);
    s->version = sh->version;
    s->cipher_suite = sh->cipher_suite;
    s->tls13 = s->tls13 || sh->version == 0x0304 || (sh->version & 0xff00) == 0x7f00;
    free(s->alpn_selected);
    s->alpn_selected = dup_str(sh->alpn);
    return (sh->alpn && !s->alpn_selected) ? -SL_ENOMEM : 0;
}

static int on_certificate(sl_tls_session *s, const sl_event *ev, const sl_tls_certificate *c)
{
    sl_tls_chain *ch = &s->chain[ev->dir];
    chain_clear(ch);
    ch->at = mark_of(ev);
    ch->n_sent = c->n_sent;
    if (c->n_certs == 0)
        return 0;
    ch->certs = calloc(c->n_certs, sizeof *ch->certs); // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
    if (!ch->certs)
        return -SL_ENOMEM;
    /* A reference, not a copy: the chain checks are made later at this
     * message's time (check_chains), so the shared parse needs no change. */
    for (size_t i = 0; i < c->n_certs; i++)
        ch->certs[i] = sl_cert_info_ref(c->certs[i]);
    ch->n = c->n_certs;
    return 0;
}

static int on_alert(sl_tls_session *s, const sl_event *ev, const sl_tls_alert *a)
{
    sl_tls_alert_seen *na = realloc(s->alerts, (s->n_alerts + 1) * sizeof *na);
    if (!na)
        return -SL_ENOMEM;
    s->alerts = na;
    na[s->n_alerts++] = (sl_tls_alert_seen){.dir = ev->dir, .encrypted = a->encrypted, .level = a->level,
                                            .description = a->description, .frame = ev->span.last_frame,
                                            .ts = ev->span.last_ts};
    return 0;
}

static void count_handshake(sl_tls_side *side, const sl_event *ev, uint8_t type)
{
    if (type < SL_TLS_HS_COUNTED)
        side->hs_messages[type]++;
    else
        side->hs_other++;
    side->last_hs = mark_of(ev);
    switch (type) {
    case SL_TLS_HS_SERVER_KEY_EXCHANGE:
    case SL_TLS_HS_CLIENT_KEY_EXCHANGE:
        mark_first(&side->key_exchange, ev);
        break;
    case SL_TLS_HS_CERTIFICATE_VERIFY:
        mark_first(&side->cert_verify, ev);
        break;
    case SL_TLS_HS_SERVER_HELLO_DONE:
        mark_first(&side->hello_done, ev);
        break;
    case SL_TLS_HS_FINISHED:
        mark_first(&side->finished, ev);
        break;
    default:
        break;
    }
}

/* Room for one more step: capacity 8, then doubled at each power of two. */
static bool steps_room(sl_tls_session *s)
{
    size_t n = s->n_steps;
    if (n >= SL_TLS_MAX_STEPS)
        return false;
    if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
        return true;
    sl_tls_step *grown = realloc(s->steps, (n ? 2 * n : 8) * sizeof *grown);
    if (!grown)
        return false;
    s->steps = grown;
    return true;
}

/* Keep the list in frame order: the core may complete one direction's
 * message later than a frame of the other direction already listed. */
static void add_step(sl_tls_session *s, const sl_event *ev, const sl_tls_event *t)
{
    if (!steps_room(s)) {
        s->steps_not_kept++;
        return;
    }
    sl_tls_step st = {.dir = ev->dir, .hs_type = t->hs_type, .length = t->hs_length, .at = mark_of(ev)};
    switch (t->type) {
    case SL_TLS_EV_CHANGE_CIPHER_SPEC:
        st.kind = SL_TLS_STEP_CHANGE_CIPHER_SPEC;
        st.hs_type = 0;
        break;
    case SL_TLS_EV_ENCRYPTED_HANDSHAKE:
        st.kind = SL_TLS_STEP_ENCRYPTED;
        st.hs_type = 0;
        break;
    case SL_TLS_EV_CLIENT_HELLO:
        st.u.client_hello.sslv2 = t->u.client_hello.sslv2;
        st.u.client_hello.legacy_version = t->u.client_hello.legacy_version;
        st.u.client_hello.n_cipher_suites = t->u.client_hello.n_cipher_suites;
        break;
    case SL_TLS_EV_SERVER_HELLO:
        st.hello_retry = t->u.server_hello.hello_retry_request;
        st.u.server_hello.version = t->u.server_hello.version;
        st.u.server_hello.cipher_suite = t->u.server_hello.cipher_suite;
        break;
    case SL_TLS_EV_HANDSHAKE:
        if (t->hs_type == SL_TLS_HS_CERTIFICATE_STATUS)
            st.u.certificate_status = t->u.certificate_status;
        else if (t->hs_type == SL_TLS_HS_NEW_SESSION_TICKET)
            st.u.new_session_ticket = t->u.new_session_ticket;
        break;
    default:
        break;
    }
    size_t i = s->n_steps++;
    while (i > 0 && s->steps[i - 1].at.frame > st.at.frame) {
        s->steps[i] = s->steps[i - 1];
        i--;
    }
    s->steps[i] = st;
}

const char *sl_tls_step_name(const sl_tls_session *s, size_t i, char *buf, size_t len)
{
    const sl_tls_step *st = &s->steps[i];
    if (st->kind == SL_TLS_STEP_CHANGE_CIPHER_SPEC)
        return "ChangeCipherSpec";
    if (st->kind == SL_TLS_STEP_ENCRYPTED) {
        /* TLS <= 1.2: the first handshake record after ChangeCipherSpec is
         * Finished; a later one (renegotiation) cannot be named. */
        for (size_t k = 0; k < i; k++)
            if (s->steps[k].kind == SL_TLS_STEP_ENCRYPTED && s->steps[k].dir == st->dir)
                return "Handshake (encrypted)";
        return "Finished (encrypted)";
    }
    if (st->hs_type == SL_TLS_HS_CLIENT_HELLO && st->u.client_hello.sslv2)
        return "ClientHello (SSLv2)";
    if (st->hs_type == SL_TLS_HS_SERVER_HELLO && st->hello_retry)
        return "HelloRetryRequest";
    const char *name = sl_tls_handshake_name(st->hs_type);
    if (name)
        return name;
    snprintf(buf, len, "Handshake type %u", st->hs_type);
    return buf;
}

static void on_app_data(sl_tls_side *side, const sl_event *ev, const sl_tls_app_data *a)
{
    if (!side->first_app.frame)
        side->first_app = (sl_tls_mark){ev->span.first_frame, ev->span.first_ts};
    side->last_app = mark_of(ev);
    side->app_records += a->records;
    side->app_bytes += a->bytes;
}

static int add_tls(sl_tls_session *s, const sl_event *ev, const sl_tls_event *t)
{
    sl_tls_side *side = &s->side[ev->dir];
    int rc = 0;
    switch (t->type) {
    case SL_TLS_EV_RECORD:
        side->records++;
        return 0;
    case SL_TLS_EV_CLIENT_HELLO:
        rc = on_client_hello(s, ev, &t->u.client_hello);
        break;
    case SL_TLS_EV_SERVER_HELLO:
        rc = on_server_hello(s, ev, &t->u.server_hello);
        break;
    case SL_TLS_EV_CERTIFICATE:
        rc = on_certificate(s, ev, &t->u.certificate);
        break;
    case SL_TLS_EV_CERTIFICATE_REQUEST:
        s->cert_request = mark_of(ev);
        free_strs(s->ca_names, s->n_ca_names);
        rc = dup_strs(t->u.certificate_request.ca_names, t->u.certificate_request.n_ca_names, &s->ca_names,
                      &s->n_ca_names);
        break;
    case SL_TLS_EV_HANDSHAKE:
        break;
    case SL_TLS_EV_ENCRYPTED_HANDSHAKE:
        mark_first(&side->finished, ev);
        side->last_hs = mark_of(ev);
        add_step(s, ev, t);
        return 0;
    case SL_TLS_EV_CHANGE_CIPHER_SPEC:
        mark_first(&side->ccs, ev);
        side->last_hs = mark_of(ev);
        add_step(s, ev, t);
        return 0;
    case SL_TLS_EV_ALERT:
        return on_alert(s, ev, &t->u.alert);
    case SL_TLS_EV_APPLICATION_DATA:
        on_app_data(side, ev, &t->u.app_data);
        return 0;
    case SL_TLS_EV_TLS13_ENCRYPTED:
        s->tls13 = true;
        return 0;
    }
    count_handshake(side, ev, t->hs_type);
    add_step(s, ev, t);
    return rc;
}

int sl_tls_session_add_event(sl_tls_session *s, const sl_event *ev)
{
    if (ev->span.first_frame && (!s->first_frame || ev->span.first_frame < s->first_frame)) {
        s->first_frame = ev->span.first_frame;
        s->first_ts = ev->span.first_ts;
    }
    if (ev->span.last_frame > s->last_frame) {
        s->last_frame = ev->span.last_frame;
        s->last_ts = ev->span.last_ts;
    }
    if (ev->kind == SL_EV_ANOMALY) {
        s->side[ev->dir].anomalies++;
        return 0;
    }
    if (ev->kind != SL_EV_TLS || !ev->u.tls)
        return 0;
    return add_tls(s, ev, ev->u.tls);
}

/* ------------------------------------------------------------------ outcome */

static const char *const OUTCOME_NAMES[] = {"none", "completed", "fatal_alert", "closed_after_certificate",
                                            "closed", "no_server_hello", "incomplete"};

const char *sl_tls_outcome_name(sl_tls_outcome_kind kind)
{
    return (size_t)kind < sizeof OUTCOME_NAMES / sizeof OUTCOME_NAMES[0] ? OUTCOME_NAMES[kind] : "?";
}

static const char *const HINT_NAMES[] = {
    "self-signed leaf", "temporary/default certificate", "intermediate not sent", "expired",
    "not yet valid", "name mismatch", "issuer not in CertificateRequest CA list", "verification failed",
    "chain out of order", "unreadable certificate", "no certificate sent (empty Certificate message)",
};

const char *sl_tls_hint_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof HINT_NAMES / sizeof HINT_NAMES[0]; i++)
        if (bit == 1u << i)
            return HINT_NAMES[i];
    return NULL;
}

static const char *side_name(sl_dir d) { return d == SL_DIR_C2S ? "client" : "server"; }

static void add_frame(sl_tls_outcome *o, uint64_t f)
{
    if (!f || o->n_frames == SL_TLS_OUTCOME_MAX_FRAMES)
        return;
    for (size_t i = 0; i < o->n_frames; i++)
        if (o->frames[i] == f)
            return;
    size_t i = o->n_frames++;
    while (i > 0 && o->frames[i - 1] > f) {
        o->frames[i] = o->frames[i - 1];
        i--;
    }
    o->frames[i] = f;
}

static bool in_list(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static bool ca_not_requested(const sl_tls_session *s)
{
    const sl_tls_chain *c = &s->chain[SL_DIR_C2S];
    if (!s->cert_request.frame || s->n_ca_names == 0 || c->n == 0)
        return false;
    for (size_t i = 0; i < c->n; i++)
        if (!c->certs[i]->broken &&
            (in_list(s->ca_names, s->n_ca_names, c->certs[i]->issuer) ||
             in_list(s->ca_names, s->n_ca_names, c->certs[i]->subject)))
            return false;
    return true;
}

static unsigned hints_of(const sl_chain_report *r)
{
    unsigned h = 0;
    h |= r->leaf_self_signed ? SL_TLS_HINT_SELF_SIGNED : 0;
    h |= r->temporary_ou ? SL_TLS_HINT_TEMPORARY : 0;
    h |= r->intermediate_missing ? SL_TLS_HINT_NO_INTERMEDIATE : 0;
    h |= r->expired ? SL_TLS_HINT_EXPIRED : 0;
    h |= r->not_yet_valid ? SL_TLS_HINT_NOT_YET_VALID : 0;
    h |= (r->name_checked && !r->name_matched) ? SL_TLS_HINT_NAME_MISMATCH : 0;
    h |= (r->verify_done && !r->verify_ok) ? SL_TLS_HINT_VERIFY_FAILED : 0;
    h |= (r->n > 1 && !r->order_ok) ? SL_TLS_HINT_BAD_ORDER : 0;
    h |= r->n_broken ? SL_TLS_HINT_BROKEN_CERT : 0;
    return h;
}

unsigned sl_tls_chain_hints(const sl_chain_report *r) { return hints_of(r); }

/* Each chain at the time of its own Certificate message.  The server's chain
 * is checked against --expect-name, else against the SNI the client asked
 * for; the client's chain only against --expect-name. */
static int check_chains(const sl_tls_session *s, const sl_tls_options *opts, sl_tls_outcome *o)
{
    for (int d = 0; d < 2; d++) {
        const sl_tls_chain *c = &s->chain[d];
        sl_tls_options eff = opts ? *opts : (sl_tls_options){0};
        if (d == SL_DIR_S2C && !eff.expect_name && s->sni && *s->sni)
            eff.expect_name = s->sni;
        int rc = sl_chain_check(c->certs, c->n, c->at.ts, &eff, &o->report[d]);
        if (rc)
            return rc;
    }
    return 0;
}

static bool handshake_completed(const sl_tls_session *s)
{
    const sl_tls_side *c = &s->side[SL_DIR_C2S], *sv = &s->side[SL_DIR_S2C];
    if (s->tls13) {
        /* TLS 1.3 hides Finished and alerts.  A guess from encrypted records:
         * the client sent more than its Finished (or one alert), or the
         * server kept talking after the client's first encrypted record. */
        return c->app_records >= 2 || (c->first_app.frame && sv->last_app.frame > c->first_app.frame);
    }
    return (c->finished.frame && sv->finished.frame) || (c->app_records && sv->app_records);
}

const sl_tls_alert_seen *sl_tls_session_first_fatal(const sl_tls_session *s)
{
    for (size_t i = 0; i < s->n_alerts; i++)
        if (!s->alerts[i].encrypted && s->alerts[i].level == 2)
            return &s->alerts[i];
    return NULL;
}

static void set_chain_blame(const sl_tls_session *s, sl_dir rejecter, uint64_t before, sl_tls_outcome *o)
{
    sl_dir peer = rejecter == SL_DIR_C2S ? SL_DIR_S2C : SL_DIR_C2S;
    o->side = rejecter;
    o->has_side = true;
    o->chain_of = peer;
    o->answers_chain = s->chain[peer].at.frame && s->chain[peer].at.frame <= before;
    if (o->answers_chain) {
        o->hints = hints_of(&o->report[peer]);
        if (s->chain[peer].n_sent == 0)
            o->hints |= SL_TLS_HINT_EMPTY_CHAIN;
        if (peer == SL_DIR_C2S && ca_not_requested(s))
            o->hints |= SL_TLS_HINT_CA_NOT_REQUESTED;
        add_frame(o, s->chain[peer].at.frame);
    }
}

static void outcome_alert(const sl_tls_session *s, const sl_tls_alert_seen *a, sl_tls_outcome *o)
{
    o->kind = SL_TLS_OUTCOME_FATAL_ALERT;
    o->alert = a->description;
    set_chain_blame(s, a->dir, a->frame, o);
    add_frame(o, a->frame);
    const char *name = sl_tls_alert_name(a->description);
    sl_dir peer = o->chain_of;
    snprintf(o->reason, sizeof o->reason, "the %s sent fatal alert %s (%u) %s", side_name(a->dir),
             name ? name : "unknown", a->description,
             o->answers_chain ? (s->chain[peer].n_sent == 0 ? (peer == SL_DIR_S2C ? "after the server sent no certificate"
                                                                             : "after the client sent no certificate")
                                 : peer == SL_DIR_S2C ? "rejecting the server's certificate"
                                                      : "rejecting the client's certificate")
             : (s->tls13 && a->dir == SL_DIR_C2S && s->server_hello.frame)
                 ? "after the server's encrypted flight (TLS 1.3: its certificate is not visible)"
                 : "before receiving any certificate from its peer");
}

static void outcome_closed(const sl_tls_session *s, const sl_tcp_end *end, sl_tls_outcome *o)
{
    const char *how = end->kind == SL_TCP_END_RST ? "reset" : "closed";
    sl_dir peer = end->by == SL_DIR_C2S ? SL_DIR_S2C : SL_DIR_C2S;
    add_frame(o, end->frame);
    const sl_tls_chain *pc = &s->chain[peer];
    if (pc->at.frame && s->side[end->by].last_hs.frame < pc->at.frame && pc->at.frame <= end->frame) {
        o->kind = SL_TLS_OUTCOME_CLOSED_AFTER_CERT;
        set_chain_blame(s, end->by, end->frame, o);
        snprintf(o->reason, sizeof o->reason,
                 "the %s %s the connection right after the %s's Certificate, without an alert", side_name(end->by),
                 how, side_name(peer));
        return;
    }
    o->kind = SL_TLS_OUTCOME_CLOSED;
    o->side = end->by;
    o->has_side = true;
    snprintf(o->reason, sizeof o->reason, "the %s %s the connection during the handshake%s", side_name(end->by), how,
             s->tls13 ? " (TLS 1.3: an encrypted alert may have preceded it)" : "");
}

int sl_tls_session_outcome(const sl_tls_session *s, const sl_tcp_end *end, const sl_tls_options *opts,
                           sl_tls_outcome *out)
{
    memset(out, 0, sizeof *out);
    int rc = check_chains(s, opts, out);
    if (rc)
        return rc;
    const sl_tls_alert_seen *fatal = sl_tls_session_first_fatal(s);
    if (!s->client_hello.frame && !s->server_hello.frame && !fatal) {
        out->kind = SL_TLS_OUTCOME_NONE;
        snprintf(out->reason, sizeof out->reason, "no handshake in the capture");
        return 0;
    }
    add_frame(out, s->client_hello.frame);
    if (fatal) {
        outcome_alert(s, fatal, out);
    } else if (handshake_completed(s)) {
        out->kind = SL_TLS_OUTCOME_COMPLETED;
        add_frame(out, s->server_hello.frame);
        add_frame(out, s->tls13 ? s->side[SL_DIR_C2S].first_app.frame : s->side[SL_DIR_C2S].finished.frame);
        snprintf(out->reason, sizeof out->reason, "handshake completed%s",
                 s->tls13 ? " (TLS 1.3: certificates encrypted; inferred from encrypted records)" : "");
    } else if (!s->server_hello.frame && s->client_hello.frame) {
        out->kind = SL_TLS_OUTCOME_NO_SERVER_HELLO;
        out->side = SL_DIR_S2C;
        out->has_side = true;
        if (end && end->kind != SL_TCP_END_OPEN)
            add_frame(out, end->frame);
        snprintf(out->reason, sizeof out->reason, "the server never answered the ClientHello%s",
                 !end || end->kind == SL_TCP_END_OPEN ? "" : end->kind == SL_TCP_END_RST ? " (connection reset)"
                                                                                         : " (connection closed)");
    } else if (end && end->kind != SL_TCP_END_OPEN) {
        outcome_closed(s, end, out);
    } else {
        out->kind = SL_TLS_OUTCOME_INCOMPLETE;
        add_frame(out, s->server_hello.frame);
        snprintf(out->reason, sizeof out->reason, "handshake not finished when the capture ends");
    }
    return 0;
}
