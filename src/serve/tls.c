/* src/serve/tls.c: OpenSSL behind tls.h. One SSL_CTX per server (swapped
 * whole on reload, under a mutex, so a worker never takes a context being
 * freed; SSL_new holds its own reference) and per client. OpenSSL keeps
 * its own heap (not sl__alloc's): its failures surface as SL_TLS_FAILED
 * or a NULL session. Its error queue is per thread and cleared before
 * every call, so a stale error never decides a result. */
#include "serve/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"

struct sl__tls_server {
    char *cert, *key, *ca; /* owned copies, for reload */
    pthread_mutex_t mu;
    SSL_CTX *ctx; /* under mu */
};

struct sl__tls_client {
    SSL_CTX *ctx;
};

struct sl__tls {
    SSL *ssl;
    bool failed; /* no close_notify after a fatal error */
};

/* ALPN lists (length-prefixed): what each listener accepts, best first. */
static const unsigned char alpn_list_http[] = "\x02h2\x08http/1.1";
static const unsigned char alpn_list_h2[] = "\x02h2";

/* OpenSSL's reason for the last failure, or a fallback. */
static const char *reason(void) {
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
    (void)arg;
    const unsigned char *mine = SSL_get_app_data(ssl);
    unsigned mlen = mine == alpn_list_h2 ? sizeof(alpn_list_h2) - 1
                                         : sizeof(alpn_list_http) - 1;
    unsigned char *o = NULL;
    if (SSL_select_next_proto(&o, outlen, mine, mlen, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        /* RFC 7301: no protocol in common is a no_application_protocol
         * alert, not a silent fall back to something the listener does
         * not speak */
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static void common_opts(SSL_CTX *ctx) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* a peer ending the TCP connection without close_notify is an end of
     * input, as for cleartext (HTTP frames its own messages) */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

static SSL_CTX *server_ctx(const char *cert, const char *key, const char *ca,
                           sl_error *err) {
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        sl__error(err, SL_ECRYPTO, NULL, "cannot make a TLS context: %s",
                  reason());
        return NULL;
    }
    common_opts(ctx);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        sl__error(err, SL_EIO, NULL, "tls certificate %s: %s", cert, reason());
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        sl__error(err, SL_EIO, NULL, "tls key %s: %s", key, reason());
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        sl__error(err, SL_EINVAL, NULL,
                  "tls key %s does not match certificate %s: %s", key, cert,
                  reason());
        goto fail;
    }
    if (ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            sl__error(err, SL_EIO, NULL, "tls client CA %s: %s", ca, reason());
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names); /* owns names */
        SSL_CTX_set_verify(
            ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        /* resumed sessions must belong to this server's verified peers */
        static const unsigned char sid[] = "sluice-serve";
        SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static char *dup_opt(const char *s, bool *nomem) {
    if (!s) {
        return NULL;
    }
    char *d = sl__strndup(s, strlen(s));
    if (!d) {
        *nomem = true;
    }
    return d;
}

static void free_str(char *s) {
    if (s) {
        sl__free(s, strlen(s) + 1);
    }
}

sl__tls_server *sl__tls_server_new(const char *cert, const char *key,
                                   const char *client_ca, sl_error *err) {
    sl__tls_server *t = sl__calloc(1, sizeof(*t));
    if (!t) {
        sl__nomem(err);
        return NULL;
    }
    bool nomem = false;
    t->cert = dup_opt(cert, &nomem);
    t->key = dup_opt(key, &nomem);
    t->ca = dup_opt(client_ca, &nomem);
    pthread_mutex_init(&t->mu, NULL);
    if (nomem) {
        sl__nomem(err);
    } else {
        t->ctx = server_ctx(cert, key, client_ca, err);
    }
    if (!t->ctx) {
        sl__tls_server_free(t);
        return NULL;
    }
    return t;
}

sl_status sl__tls_server_reload(sl__tls_server *t, sl_error *err) {
    SSL_CTX *next = server_ctx(t->cert, t->key, t->ca, err);
    if (!next) {
        return err ? err->code : SL_EIO;
    }
    pthread_mutex_lock(&t->mu);
    SSL_CTX *old = t->ctx;
    t->ctx = next;
    pthread_mutex_unlock(&t->mu);
    SSL_CTX_free(old); /* open sessions hold their own reference */
    return SL_OK;
}

void sl__tls_server_free(sl__tls_server *t) {
    if (!t) {
        return;
    }
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->mu);
    free_str(t->cert);
    free_str(t->key);
    free_str(t->ca);
    sl__free(t, sizeof(*t));
}

static sl__tls *wrap(SSL *ssl, int fd) {
    sl__tls *s = ssl ? sl__calloc(1, sizeof(*s)) : NULL;
    if (!s || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        if (s) {
            sl__free(s, sizeof(*s));
        }
        return NULL;
    }
    s->ssl = ssl;
    return s;
}

sl__tls *sl__tls_accept(sl__tls_server *t, int fd, bool h2_only) {
    ERR_clear_error();
    pthread_mutex_lock(&t->mu);
    SSL *ssl = SSL_new(t->ctx);
    pthread_mutex_unlock(&t->mu);
    sl__tls *s = wrap(ssl, fd);
    if (s) {
        SSL_set_app_data(
            ssl, (void *)(uintptr_t)(h2_only ? alpn_list_h2 : alpn_list_http));
        SSL_set_accept_state(ssl);
    }
    return s;
}

sl__tls_client *sl__tls_client_new(const char *ca_file, bool insecure,
                                   bool alpn_h2, sl_error *err) {
    ERR_clear_error();
    sl__tls_client *c = sl__calloc(1, sizeof(*c));
    if (!c) {
        sl__nomem(err);
        return NULL;
    }
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) {
        sl__error(err, SL_ECRYPTO, NULL, "cannot make a TLS context: %s",
                  reason());
        goto fail;
    }
    common_opts(c->ctx);
    if (alpn_h2 && SSL_CTX_set_alpn_protos(c->ctx, alpn_list_h2,
                                           sizeof(alpn_list_h2) - 1) != 0) {
        sl__error(err, SL_ECRYPTO, NULL, "cannot set ALPN: %s", reason());
        goto fail;
    }
    if (insecure) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
        return c;
    }
    int ok = ca_file ? SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths(c->ctx);
    if (ok != 1) {
        sl__error(err, SL_EIO, NULL, "tls CA %s: %s",
                  ca_file ? ca_file : "(system store)", reason());
        goto fail;
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    return c;
fail:
    sl__tls_client_free(c);
    return NULL;
}

void sl__tls_client_free(sl__tls_client *c) {
    if (c) {
        SSL_CTX_free(c->ctx);
        sl__free(c, sizeof(*c));
    }
}

sl__tls *sl__tls_connect(sl__tls_client *c, int fd, const char *host,
                         sl_error *err) {
    ERR_clear_error();
    sl__tls *s = wrap(SSL_new(c->ctx), fd);
    if (!s) {
        sl__nomem(err);
        return NULL;
    }
    /* SNI and the name the certificate must carry (an IP address is
     * checked against the certificate's IP entries, and sent no SNI) */
    unsigned char ip[16];
    bool is_ip =
        inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), host)
                   : SSL_set_tlsext_host_name(s->ssl, host) == 1 &&
                         SSL_set1_host(s->ssl, host) == 1;
    if (ok != 1) {
        sl__error(err, SL_EINVAL, NULL, "tls: bad host name");
        s->failed = true;
        sl__tls_free(s);
        return NULL;
    }
    SSL_set_connect_state(s->ssl);
    int r = SSL_connect(s->ssl);
    if (r != 1) {
        long v = SSL_get_verify_result(s->ssl);
        if (v != X509_V_OK) {
            sl__error(err, SL_ECRYPTO, NULL, "tls: certificate refused: %s",
                      X509_verify_cert_error_string(v));
        } else {
            sl__error(err, SL_EIO, NULL, "tls handshake failed: %s",
                      ERR_peek_last_error() ? reason() : "connection closed");
        }
        s->failed = true;
        sl__tls_free(s);
        return NULL;
    }
    return s;
}

bool sl__tls_ready(const sl__tls *t) {
    return SSL_is_init_finished(t->ssl);
}

/* Map an SSL_* result r (<= 0) to what the caller waits for. */
static sl__tls_io io_result(sl__tls *t, int r) {
    int e = SSL_get_error(t->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return SL_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return SL_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return SL_TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return SL_TLS_WANT_READ; /* a blocking socket's time-out */
        }
        t->failed = true;
        return SL_TLS_FAILED;
    default: {
        unsigned long err = ERR_peek_error();
        t->failed = true;
        if (ERR_GET_LIB(err) == ERR_LIB_SSL &&
            ERR_GET_REASON(err) == SSL_R_HTTP_REQUEST) {
            return SL_TLS_PLAIN_HTTP;
        }
        return SL_TLS_FAILED;
    }
    }
}

sl__tls_io sl__tls_read(sl__tls *t, char *buf, size_t cap, size_t *n) {
    ERR_clear_error();
    size_t got = 0;
    int r = SSL_read_ex(t->ssl, buf, cap, &got);
    if (r == 1) {
        *n = got;
        return SL_TLS_DONE;
    }
    return io_result(t, r);
}

sl__tls_io sl__tls_write(sl__tls *t, const char *buf, size_t len, size_t *n) {
    ERR_clear_error();
    size_t put = 0;
    int r = SSL_write_ex(t->ssl, buf, len, &put);
    if (r == 1) {
        *n = put;
        return SL_TLS_DONE;
    }
    return io_result(t, r);
}

bool sl__tls_pending(const sl__tls *t) {
    return SSL_pending(t->ssl) > 0;
}

void sl__tls_free(sl__tls *t) {
    if (!t) {
        return;
    }
    if (!t->failed && SSL_is_init_finished(t->ssl)) {
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* one try: never waits for the peer's */
    }
    SSL_free(t->ssl);
    sl__free(t, sizeof(*t));
}
