/* fake_main.c: command line, start-up and shutdown of fake-gemini, the fake Gemini REST server
 * that gemflow's tests, benchmarks and offline demo point the runner at (a test double only).
 * Exit status: 0 after SIGINT/SIGTERM, 1 when it cannot start, 2 on a usage error. */
#include "fake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_START = 1, EXIT_USAGE = 2 };

static const char usage[] =
    "usage: fake-gemini [options]\n"
    "A fake Gemini REST API (a test double for gemflow's tests, benchmarks and offline demo).\n"
    "\n"
    "  --port N              listen on 127.0.0.1:N; 0 picks a free port (default 0)\n"
    "  --port-file F         write the port to F (atomically) once accepting connections\n"
    "  --log FILE            append one JSON line per API request to FILE\n"
    "  --latency-ms N        answer each API request N ms after it arrived (or when its\n"
    "                        reply is ready, if making it took longer)\n"
    "  --latency-jitter-ms N add uniform jitter in [-N, +N] ms (seeded)\n"
    "  --seed S              seed for jitter, fault rate and response ids (default 1)\n"
    "  --fault-rate R        give each API request a fault with probability R (0..1)\n"
    "  --fault-kinds K,...   kinds drawn by --fault-rate (default 429,500,503)\n"
    "  --faults FILE         JSON array of fault rules (see README.md)\n"
    "  --retry-delay D       retryDelay of 429 RetryInfo bodies (default 1s)\n"
    "  --retry-after S       Retry-After seconds for kind 429-retry-after (default 1)\n"
    "  --hang-ms N           how long the timeout fault holds a request (default 60000)\n"
    "  --png-grain N         add per-pixel grain of amplitude N (0-127) to generated images,\n"
    "                        so they compress like photographs (benchmarks: ~2 MB at 1K)\n"
    "  --media-cache         paint each image size once and cut audio from one long PCM,\n"
    "                        so the fake's CPU stays out of the latency (benchmarks)\n"
    "  --key KEY             accept only this API key (others get 400 API_KEY_INVALID)\n"
    "  --rpm MODEL=R         at most R requests per minute for MODEL (repeatable)\n"
    "  --minute-ms N         length of the --rpm window in ms (default 60000)\n"
    "  --model NAME:KIND     serve a model (also a shut-down one); KIND is text, image,\n"
    "                        speech or imagen (repeatable)\n"
    "  --retire NAME         shut a model down: 404 everywhere, not listed (repeatable)\n"
    "  --reroute FROM=TO     accept FROM but answer it with TO (modelVersion names TO)\n"
    "  --page-size-max N     largest models.list page (default 1000)\n"
    "  --mislabel-rate R     share of JPEG image replies labelled image/png (0..1; default:\n"
    "                        those whose prompt hash is odd)\n"
    "  --render-ms N         interactions (Omni video): wall-clock time from create to done\n"
    "                        (default 3000; 0: done at once)\n"
    "  --op-fail-rate R      share of interactions that end \"failed\" (0..1), drawn from\n"
    "                        (seed, interaction id)\n"
    "  --state FILE          keep the interactions in FILE (rewritten atomically on each\n"
    "                        change, loaded at start), so they outlive a restart\n"
    "  --max-body BYTES      refuse larger request bodies with the real 400 (default\n"
    "                        104857600, the 100 MB inline limit)\n"
    "  --mime-strict         refuse inline images whose bytes are another format than their\n"
    "                        declared MIME type (default: taken, as the real API reads them)\n"
    "  --quiet               do not print the listening line\n"
    "  --help                show this help\n";

static const struct option options[] = {
    {"port", required_argument, NULL, 'p'},
    {"port-file", required_argument, NULL, 'P'},
    {"log", required_argument, NULL, 'l'},
    {"latency-ms", required_argument, NULL, 'L'},
    {"latency-jitter-ms", required_argument, NULL, 'J'},
    {"seed", required_argument, NULL, 's'},
    {"fault-rate", required_argument, NULL, 'r'},
    {"fault-kinds", required_argument, NULL, 'k'},
    {"faults", required_argument, NULL, 'f'},
    {"retry-delay", required_argument, NULL, 'd'},
    {"retry-after", required_argument, NULL, 'a'},
    {"hang-ms", required_argument, NULL, 'H'},
    {"png-grain", required_argument, NULL, 'G'},
    {"media-cache", no_argument, NULL, 'c'},
    {"key", required_argument, NULL, 'K'},
    {"rpm", required_argument, NULL, 'R'},
    {"minute-ms", required_argument, NULL, 'm'},
    {"model", required_argument, NULL, 'M'},
    {"retire", required_argument, NULL, 'X'},
    {"reroute", required_argument, NULL, 'T'},
    {"page-size-max", required_argument, NULL, 'S'},
    {"mislabel-rate", required_argument, NULL, 'B'},
    {"render-ms", required_argument, NULL, 'D'},
    {"op-fail-rate", required_argument, NULL, 'F'},
    {"state", required_argument, NULL, 'Z'},
    {"max-body", required_argument, NULL, 'Y'},
    {"mime-strict", no_argument, NULL, 'I'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
    fputs(FK_PREFIX, stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n" FK_PREFIX "try 'fake-gemini --help'\n", stderr);
    exit(EXIT_USAGE);
}

static long number(const char *opt, const char *v, long min, long max)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        usage_error("invalid value for %s", opt);
    return n;
}

static void parse_kinds(struct fk_config *cfg, const char *list)
{
    cfg->n_rate_kinds = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        int k = fk_fault_parse(p, n);
        if (k <= 0 || cfg->n_rate_kinds >= FK_FAULT_COUNT)
            usage_error("unknown fault kind in '%s'", list);
        cfg->rate_kinds[cfg->n_rate_kinds++] = (enum fk_fault)k;
        p += n + (p[n] == ',');
    }
}

static void add_rpm(struct fk_server *s, const char *arg)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg)
        usage_error("--rpm wants MODEL=R, got '%s'", arg);
    int limit = (int)number("--rpm", eq + 1, 1, 1000000);
    s->rpm = fk_realloc(s->rpm, (s->n_rpm + 1) * sizeof *s->rpm);
    struct fk_rpm *q = &s->rpm[s->n_rpm++];
    memset(q, 0, sizeof *q);
    q->model = fk_strndup(arg, (size_t)(eq - arg));
    q->limit = limit;
    q->stamps = fk_calloc((size_t)limit, sizeof *q->stamps);
}

static void add_model(struct fk_server *s, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    int kind = colon ? fk_kind_parse(colon + 1) : -1;
    if (!colon || colon == arg || kind < 0)
        usage_error("--model wants NAME:KIND with KIND text, image, speech or imagen, got '%s'",
                    arg);
    char *name = fk_strndup(arg, (size_t)(colon - arg));
    fk_models_add(s, name, (enum fk_kind)kind);
    free(name);
}

static void add_reroute(struct fk_server *s, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        usage_error("--reroute wants FROM=TO, got '%s'", arg);
    char *from = fk_strndup(arg, (size_t)(eq - arg));
    fk_models_reroute(s, from, eq + 1);
    free(from);
}

static double rate(const char *opt, const char *v)
{
    char *end;
    double r = strtod(v, &end);
    if (end == v || *end || !(r >= 0 && r <= 1))
        usage_error("%s wants a number from 0 to 1", opt);
    return r;
}

static void load_faults(struct fk_server *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        usage_error("cannot open '%s'", path);
    struct fk_buf b = FK_BUF_INIT;
    fk_buf_add_stream(&b, f);
    fclose(f);
    cJSON *arr = fk_json_parse(b.buf, b.len, NULL);
    fk_buf_release(&b);
    char err[200];
    int rc = fk_rules_parse(arr, &s->rules, err, sizeof err);
    cJSON_Delete(arr);
    if (rc < 0) {
        fprintf(stderr, FK_PREFIX "%s: %s\n", path, err);
        exit(EXIT_USAGE);
    }
}

static void parse_args(struct fk_server *s, int argc, char **argv)
{
    struct fk_config *c = &s->cfg;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'p':
            c->port = (int)number("--port", optarg, 0, 65535);
            break;
        case 'P':
            c->port_file = optarg;
            break;
        case 'l':
            c->log_path = optarg;
            break;
        case 'L':
            c->latency_ms = (int)number("--latency-ms", optarg, 0, 3600000);
            break;
        case 'J':
            c->jitter_ms = (int)number("--latency-jitter-ms", optarg, 0, 3600000);
            break;
        case 's':
            c->seed = (uint64_t)strtoull(optarg, NULL, 10);
            break;
        case 'r':
            c->fault_rate = rate("--fault-rate", optarg);
            break;
        case 'B':
            c->mislabel_rate = rate("--mislabel-rate", optarg);
            break;
        case 'k':
            parse_kinds(c, optarg);
            break;
        case 'f':
            c->faults_file = optarg;
            break;
        case 'd':
            if (!*optarg || optarg[strlen(optarg) - 1] != 's' || strtod(optarg, NULL) < 0)
                usage_error("--retry-delay wants a duration like '1s' or '0.3s', got '%s'", optarg);
            c->retry_delay = optarg;
            break;
        case 'a':
            c->retry_after = (int)number("--retry-after", optarg, 0, 86400);
            break;
        case 'H':
            c->hang_ms = (int)number("--hang-ms", optarg, 0, 86400000);
            break;
        case 'G':
            fk_png_set_grain((int)number("--png-grain", optarg, 0, 127));
            break;
        case 'c':
            fk_media_cache_enable();
            break;
        case 'K':
            c->key = optarg;
            break;
        case 'R':
            add_rpm(s, optarg);
            break;
        case 'm':
            c->minute_ms = (int)number("--minute-ms", optarg, 1, 86400000);
            break;
        case 'M':
            add_model(s, optarg);
            break;
        case 'X':
            if (!*optarg)
                usage_error("%s", "--retire wants a model name");
            fk_models_retire(s, optarg);
            break;
        case 'T':
            add_reroute(s, optarg);
            break;
        case 'S':
            c->page_size_max = (int)number("--page-size-max", optarg, 1, 1000);
            break;
        case 'D':
            c->render_ms = (int)number("--render-ms", optarg, 0, 86400000);
            break;
        case 'F':
            c->op_fail_rate = rate("--op-fail-rate", optarg);
            break;
        case 'Z':
            if (!*optarg)
                usage_error("%s", "--state wants a file name");
            c->state_path = optarg;
            break;
        case 'Y':
            c->max_body = (size_t)number("--max-body", optarg, 1, 1L << 30);
            break;
        case 'I':
            c->mime_strict = true;
            break;
        case 'q':
            c->quiet = true;
            break;
        case 'h':
            fputs(usage, stdout);
            exit(EXIT_OK);
        default:
            usage_error("%s", "invalid option");
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    char err[200];
    if (fk_models_finish(s, err, sizeof err) < 0)
        usage_error("%s", err);
    if (c->faults_file)
        load_faults(s, c->faults_file);
}

static int write_port_file(const char *path, int port)
{
    char *tmp = fk_printf("%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int rc = f && fprintf(f, "%d\n", port) > 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, FK_PREFIX "cannot write port file '%s': %s\n", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static void server_release(struct fk_server *s)
{
    fk_models_release(s);
    fk_ix_release(s);
    fk_video_release();
    for (size_t i = 0; i < s->n_rpm; i++) {
        free(s->rpm[i].model);
        free(s->rpm[i].stamps);
    }
    free(s->rpm);
    fk_rules_release(&s->rules);
    for (size_t i = 0; i < s->n_markers; i++)
        free(s->markers[i].key);
    free(s->markers);
    cJSON_Delete(s->stats);
    if (s->log)
        fclose(s->log);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
}

static struct MHD_Daemon *start(struct fk_server *s, sigset_t *sigs)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->lock, NULL);
    /* Block the stop signals before MHD starts its threads, so only sigwait() sees them. */
    sigemptyset(sigs);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)s->cfg.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* One thread per connection: a sleeping or hanging request never delays another. */
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL,
        (uint16_t)s->cfg.port, NULL, NULL, fk_http_access, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, fk_http_completed, s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_END);
}

int main(int argc, char **argv)
{
    static struct fk_server s;
    s.cfg.seed = 1;
    s.cfg.retry_delay = "1s";
    s.cfg.retry_after = 1;
    s.cfg.hang_ms = 60000;
    s.cfg.minute_ms = 60000;
    s.cfg.mislabel_rate = -1;
    s.cfg.page_size_max = 1000;
    s.cfg.render_ms = 3000;
    s.cfg.max_body = FK_MAX_BODY;
    parse_kinds(&s.cfg, "429,500,503");
    fk_models_defaults(&s);
    parse_args(&s, argc, argv);
    if (s.cfg.log_path && !(s.log = fopen(s.cfg.log_path, "a"))) {
        fprintf(stderr, FK_PREFIX "cannot open log '%s': %s\n", s.cfg.log_path, strerror(errno));
        return EXIT_START;
    }
    char err[300];
    if (fk_ix_load(&s, err, sizeof err) < 0) {
        fprintf(stderr, FK_PREFIX "%s\n", err);
        server_release(&s);
        return EXIT_START;
    }
    sigset_t sigs;
    struct MHD_Daemon *d = start(&s, &sigs);
    if (!d) {
        fprintf(stderr, FK_PREFIX "cannot listen on 127.0.0.1:%d: %s\n", s.cfg.port,
                strerror(errno));
        server_release(&s);
        return EXIT_START;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = di ? di->port : s.cfg.port;
    if (s.cfg.port_file && write_port_file(s.cfg.port_file, port) < 0) {
        MHD_stop_daemon(d);
        server_release(&s);
        return EXIT_START;
    }
    if (!s.cfg.quiet) {
        printf("fake-gemini: listening on http://127.0.0.1:%d\n", port);
        fflush(stdout);
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    pthread_mutex_lock(&s.lock);
    s.stopping = true; /* ends latency sleeps and timeout hangs at once */
    pthread_cond_broadcast(&s.wake);
    pthread_mutex_unlock(&s.lock);
    MHD_stop_daemon(d);
    server_release(&s);
    return EXIT_OK;
}
