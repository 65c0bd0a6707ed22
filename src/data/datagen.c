/*
 * datagen.c — a seeded generator of realistic raw phishing data with the
 * seed workflow's 15 columns, in its order:
 *   urllength, numberofdots, hostage, hassecureconnection, has_equal,
 *   alexa_rank, has_digits, hostlength, pathlength, registrarname,
 *   hyperlinks, foreignlinks, brokenhyperlinks, trickyforms, phishing
 *
 * Each row is drawn from one of six archetypes, three legitimate
 * (established popular sites; small old sites; young marketing/startup
 * sites) and three phishing (classic throw-away domains; compromised old
 * sites; pages on free-hosting subdomains). Archetypes overlap on every
 * single feature (young domains are not always phishing, old domains not
 * always safe), so a model has to combine features non-linearly: trees do
 * well, a linear model does clearly worse. By default 0.8% of labels are
 * flipped (mislabelled rows, as in any scraped set), which caps accuracy
 * below 99%; label_noise sets that fraction (0 = clean labels).
 *
 * URLs are built from parts, so the columns are mutually consistent:
 * urllength = scheme + hostlength + pathlength + query, foreignlinks and
 * brokenhyperlinks never exceed hyperlinks. Scraping failures give a few
 * rows with urllength 0 and empty cells (URL parts missing, no WHOIS, no
 * rank, no https probe, page fetch failed).
 *
 * drift in [0,1] moves phishing the way it has evolved: https almost
 * everywhere, aged (bought) domains, and a shift to free-hosting subdomains
 * whose parent has a low (popular) Alexa rank.
 *
 * The RNG is xoshiro256** seeded by splitmix64; every value is an integer
 * computed from it in a fixed order, so a seed gives a byte-identical file.
 */
#include "data/csv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* uniform in [0,1) */
static double unif(struct rng *r) { return (double)(next_u64(r) >> 11) * 0x1.0p-53; }
static double unif2(struct rng *r, double a, double b) { return a + (b - a) * unif(r); }
static bool coin(struct rng *r, double p) { return unif(r) < p; }

static double normal(struct rng *r)
{
    double u = unif(r), v = unif(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

static double lognorm(struct rng *r, double median, double sigma) { return median * exp(sigma * normal(r)); }

static int64_t clampi(double v, int64_t lo, int64_t hi)
{
    int64_t x = (int64_t)floor(v + 0.5);
    return x < lo ? lo : x > hi ? hi : x;
}

static double loguniform(struct rng *r, double lo, double hi) { return exp(unif2(r, log(lo), log(hi))); }

static const char *const registrars[40] = {
    "MarkMonitor Inc.", "CSC Corporate Domains, Inc.", "GoDaddy.com, LLC", "Network Solutions, LLC",
    "Tucows Domains Inc.", "Gandi SAS", "Google LLC", "Amazon Registrar, Inc.", "Cloudflare, Inc.", "eNom, LLC",
    "Register.com, Inc.", "IONOS SE", "OVH SAS", "Key-Systems GmbH", "Wild West Domains, LLC", "DNC Holdings, Inc.",
    "Squarespace Domains LLC", "Hover", "Dynadot, LLC", "Porkbun LLC", "NameCheap, Inc.", "NameSilo, LLC",
    "PDR Ltd. d/b/a PublicDomainRegistry.com", "Hostinger, UAB", "Alibaba Cloud Computing (Beijing) Co., Ltd.",
    "Registrar.eu", "Regional Network Information Center, JSC", "Beget LLC", "WebNic.cc", "Sav.com, LLC",
    "Gname.com Pte. Ltd.", "NICENIC INTERNATIONAL GROUP CO., LIMITED", "West263 International Limited",
    "Eranet International Limited", "Internet Domain Service BS Corp", "OnlineNIC, Inc.", "Realtime Register B.V.",
    "Epik Inc.", "Domain.com, LLC", "Bluehost Inc.",
};

/* Cumulative weights per registrar profile: 0 legit, 1 phishing, 2 hosting platforms. */
struct gen {
    struct rng r;
    double reg_cdf[3][40];
    double label_noise; /* fraction of flipped labels */
};

static void init_registrars(double reg_cdf[3][40])
{
    for (int p = 0; p < 3; p++) {
        double sum = 0;
        for (int i = 0; i < 40; i++) {
            double w;
            if (p == 0) w = exp(-i / 7.0) + 0.02;
            else if (p == 1) w = exp(-fabs((double)i - 26) / 5.0) + (i == 20 ? 1.5 : 0) + (i == 2 ? 0.6 : 0) + 0.02;
            else w = (i == 6 || i == 7) ? 3 : (i == 2 || i == 16 || i == 39 || i == 23) ? 1.5 : 0.01;
            sum += w;
            reg_cdf[p][i] = sum;
        }
        for (int i = 0; i < 40; i++) reg_cdf[p][i] /= sum;
    }
}

static int pick_registrar(struct gen *g, int profile)
{
    const double (*reg_cdf)[40] = g->reg_cdf;
    double u = unif(&g->r);
    for (int i = 0; i < 40; i++)
        if (u < reg_cdf[profile][i]) return i;
    return 39;
}

struct row {
    int64_t urllength, dots, hostage, https, has_equal, alexa, has_digits, hostlength, pathlength;
    int registrar;
    int64_t links, foreign, broken, tricky, phishing;
    bool null_age, null_alexa, null_reg, null_page, null_url, null_https;
};

/* Archetype parameters. */
struct arch {
    double host_med, host_sig; /* hostlength */
    double dots_lo, dots_hi;   /* dots in the host */
    double path_med, path_sig, path_zero;
    double https, equal, digits;
    double age_med, age_sig;
    double alexa_lo, alexa_hi;
    double links_med, links_sig;
    double fore_lo, fore_hi, broken_lo, broken_hi;
    double tricky;
    int reg_profile;
};

static void gen_row(struct gen *g, double drift, struct row *o)
{
    struct rng *r = &g->r;
    double d = drift;
    /* class prior, then archetype within class */
    bool phish = coin(r, 0.42);
    struct arch a;
    double u = unif(r);
    if (!phish) {
        if (u < 0.45) { /* established, popular */
            a = (struct arch){13, 0.3, 1, 2.6, 22, 0.7, 0.15, 0.95, 0.3, 0.05, 4000, 0.5, 1, 2e5,
                              110, 0.6, 0.05, 0.35, 0.0, 0.03, 0.004, 0};
        } else if (u < 0.75) { /* small, old, often http; links vary a lot */
            a = (struct arch){16, 0.3, 1, 2.6, 25, 0.7, 0.2, 0.55 + 0.3 * d, 0.2, 0.12, 2500, 0.6, 2e5, 1e7,
                              40, 1.0, 0.0, 0.45, 0.0, 0.3, 0.01, 0};
        } else { /* young marketing / startup pages */
            /* tracking subdomains: long hosts with many dots, like phishing */
            a = (struct arch){24, 0.35, 2, 5.0, 35, 0.6, 0.05, 0.9, 0.75, 0.35, 90, 0.9, 5e4, 1e7,
                              60, 0.6, 0.3, 0.8, 0.0, 0.12, 0.03, 0};
        }
    } else {
        /* drift: fewer classic kits, more free hosting; kits clone the
         * target page (many links, few foreign), use https and aged domains */
        double w1 = 0.50 - 0.35 * d, w2 = 0.35 - 0.10 * d;
        if (u < w1) { /* classic throw-away domain */
            a = (struct arch){24 - 8 * d, 0.4, 2, 5.5 - 2 * d, 30, 0.8, 0.1, 0.3 + 0.6 * d, 0.55, 0.5 - 0.3 * d,
                              40 * exp(3.5 * d), 1.0, 5e5 / (1 + 20 * d), 1e7, 15 * (1 + 5 * d), 0.8,
                              0.4 - 0.3 * d, 1.0 - 0.5 * d, 0.0, 0.3 - 0.2 * d, 0.35 - 0.2 * d, 1};
        } else if (u < w1 + w2) { /* compromised old site: looks like a small old site */
            a = (struct arch){16, 0.3, 1, 2.6, 60, 0.4, 0.0, 0.5 + 0.4 * d, 0.35, 0.1, 2000, 0.7, 1e5, 1e7,
                              40, 1.0, 0.55 - 0.3 * d, 1.0 - 0.3 * d, 0.05 - 0.04 * d, 0.35 - 0.25 * d, 0.3, 0};
        } else { /* free-hosting subdomain of a popular platform */
            a = (struct arch){24 - 8 * d, 0.3, 2.5, 4.9, 15, 0.8, 0.3, 0.9 + 0.1 * d, 0.3, 0.35, 3500, 0.4, 50, 5e4,
                              10 * (1 + 6 * d), 0.8, 0.3 - 0.25 * d, 0.9 - 0.5 * d, 0.0, 0.3 - 0.25 * d,
                              0.5 - 0.3 * d, 2};
        }
    }
    memset(o, 0, sizeof *o);
    o->https = coin(r, a.https);
    o->hostlength = clampi(lognorm(r, a.host_med, a.host_sig), 4, 150);
    o->pathlength = coin(r, a.path_zero) ? 0 : clampi(lognorm(r, a.path_med, a.path_sig), 1, 400);
    o->has_equal = coin(r, a.equal);
    int64_t query = o->has_equal ? clampi(lognorm(r, 25, 0.6), 4, 300) : 0;
    o->urllength = (o->https ? 8 : 7) + o->hostlength + o->pathlength + query;
    int64_t hdots = clampi(unif2(r, a.dots_lo, a.dots_hi) - 0.5, 1, 12);
    if (hdots > o->hostlength / 3) hdots = o->hostlength / 3 > 0 ? o->hostlength / 3 : 1;
    int64_t pdots = o->pathlength > 5 ? clampi(unif2(r, -0.6, 1.8), 0, 3) : 0;
    o->dots = hdots + pdots;
    o->has_digits = coin(r, a.digits);
    o->hostage = clampi(lognorm(r, a.age_med, a.age_sig), 0, 12000);
    o->alexa = clampi(loguniform(r, a.alexa_lo, a.alexa_hi), 1, 10000000);
    o->registrar = pick_registrar(g, a.reg_profile);
    o->links = clampi(lognorm(r, a.links_med, a.links_sig) - 1, 0, 5000);
    o->foreign = clampi((double)o->links * unif2(r, a.fore_lo, a.fore_hi), 0, o->links);
    o->broken = clampi((double)o->links * unif2(r, a.broken_lo, a.broken_hi), 0, o->links);
    o->tricky = coin(r, a.tricky);
    /* mislabelled rows */
    o->phishing = coin(r, g->label_noise) ? !phish : phish;
    /* scraping failures */
    double f = unif(r);
    if (f < 0.002) { /* URL could not be parsed */
        o->urllength = o->hostlength = o->pathlength = o->dots = o->has_equal = o->has_digits = 0;
    }
    o->null_age = coin(r, 0.01);
    o->null_alexa = coin(r, 0.008);
    o->null_reg = o->null_age || coin(r, 0.004);
    o->null_page = coin(r, 0.005);
    o->null_url = f >= 0.002 && f < 0.0035; /* URL columns missing */
    o->null_https = coin(r, 0.003);
}

static char *put_i(char *p, int64_t v) { return p + hamf__fmt_i64(p, v); }

static char *put_s(char *p, const char *s)
{
    bool q = strchr(s, ',') || strchr(s, '"');
    if (q) *p++ = '"';
    for (; *s; s++) {
        if (*s == '"') *p++ = '"';
        *p++ = *s;
    }
    if (q) *p++ = '"';
    return p;
}

static char *format_row(char *p, const struct row *o)
{
    if (!o->null_url) p = put_i(p, o->urllength);
    *p++ = ',';
    if (!o->null_url) p = put_i(p, o->dots);
    *p++ = ',';
    if (!o->null_age) p = put_i(p, o->hostage);
    *p++ = ',';
    if (!o->null_https) p = put_s(p, o->https ? "yes" : "no");
    *p++ = ',';
    p = put_i(p, o->has_equal), *p++ = ',';
    if (!o->null_alexa) p = put_i(p, o->alexa);
    *p++ = ',';
    p = put_i(p, o->has_digits), *p++ = ',';
    if (!o->null_url) p = put_i(p, o->hostlength);
    *p++ = ',';
    if (!o->null_url) p = put_i(p, o->pathlength);
    *p++ = ',';
    if (!o->null_reg) p = put_s(p, registrars[o->registrar]);
    *p++ = ',';
    if (!o->null_page) {
        p = put_i(p, o->links), *p++ = ',';
        p = put_i(p, o->foreign), *p++ = ',';
        p = put_i(p, o->broken), *p++ = ',';
        p = put_i(p, o->tricky), *p++ = ',';
    } else {
        memcpy(p, ",,,,", 4);
        p += 4;
    }
    p = put_i(p, o->phishing);
    *p++ = '\n';
    return p;
}

hamf_status hamf_datagen_phishing(const hamf_datagen_options *o, const char *path)
{
    if (!o || !path) return hamf__err(HAMF_ERR_MISUSE, "datagen: NULL argument");
    if (!(o->drift >= 0 && o->drift <= 1)) return hamf__err(HAMF_ERR_CONSTRAINT, "datagen: drift must be in [0,1]");
    if (o->rows > 1000000000ull) return hamf__err(HAMF_ERR_CONSTRAINT, "datagen: at most 1e9 rows");
    if (!(o->label_noise >= 0 && o->label_noise <= 0.5))
        return hamf__err(HAMF_ERR_CONSTRAINT, "datagen: label noise must be in [0,0.5]");
    struct gen g;
    g.label_noise = o->label_noise;
    init_registrars(g.reg_cdf);
    uint64_t x = o->seed;
    for (int i = 0; i < 4; i++) g.r.s[i] = splitmix(&x);
    struct hamf__csv_writer *w;
    hamf_status st = hamf__csv_writer_open(path, &w);
    if (st) return st;
    const size_t cap = 1u << 20;
    char *buf = hamf__malloc(cap + 512);
    if (!buf) {
        hamf__csv_writer_abort(w);
        return hamf__err(HAMF_ERR_NOMEM, "datagen: out of memory");
    }
    static const char header[] = "urllength,numberofdots,hostage,hassecureconnection,has_equal,alexa_rank,"
                                 "has_digits,hostlength,pathlength,registrarname,hyperlinks,foreignlinks,"
                                 "brokenhyperlinks,trickyforms,phishing\n";
    char *p = buf;
    memcpy(p, header, sizeof header - 1);
    p += sizeof header - 1;
    for (uint64_t i = 0; i < o->rows; i++) {
        struct row row;
        gen_row(&g, o->drift, &row);
        p = format_row(p, &row);
        if ((size_t)(p - buf) >= cap) {
            if ((st = hamf__csv_writer_raw(w, buf, (size_t)(p - buf)))) goto fail;
            p = buf;
        }
    }
    if ((st = hamf__csv_writer_raw(w, buf, (size_t)(p - buf)))) goto fail;
    hamf__free(buf);
    return hamf__csv_writer_commit(w);
fail:
    hamf__free(buf);
    hamf__csv_writer_abort(w);
    return st;
}
