/* fake_video.c: the clips the fake Gemini server answers Gemini Omni Flash interactions with:
 * real small MP4 files (H.264 video, AAC audio) of the asked duration and orientation, rendered
 * by FFmpeg from its test sources (a moving test card tinted by the prompt, a tone whose pitch
 * the prompt picks) and kept in memory, so a clip is rendered once per (duration, orientation,
 * variant). Rendering is bit-exact: the same key always gives the same bytes, also after a
 * restart of the fake. */
#include "fake.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CACHE_MAX 32

struct clip {
    int duration_ms;
    bool portrait;
    uint64_t variant;
    unsigned char *data;
    size_t len;
};

static struct clip cache[CACHE_MAX];
static size_t cache_n, cache_next;
/* One render at a time (two cores are shared with the rest of the tests); guards the cache. */
static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER;

void fk_video_dims(bool portrait, int *w, int *h)
{
    *w = portrait ? 144 : 256;
    *h = portrait ? 256 : 144;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct fk_buf b = FK_BUF_INIT;
    int rc = fk_buf_add_stream(&b, f);
    fclose(f);
    *out = (unsigned char *)fk_buf_detach(&b, len);
    return rc;
}

/* Run ffmpeg into a temporary file; on failure `err` gets what it said. */
static int render(int duration_ms, bool portrait, uint64_t variant, unsigned char **out,
                  size_t *len, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *path = fk_printf("%s/fake-gemini-clip.XXXXXX", dir);
    char *log = fk_printf("%s/fake-gemini-ffmpeg.XXXXXX", dir);
    int fd = mkstemp(path), lfd = mkstemp(log);
    if (fd < 0 || lfd < 0) {
        snprintf(err, errlen, "cannot create a temporary file in %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd), unlink(path);
        if (lfd >= 0)
            close(lfd), unlink(log);
        free(path);
        free(log);
        return -1;
    }
    close(fd);
    int w, h;
    fk_video_dims(portrait, &w, &h);
    char dur[32];
    snprintf(dur, sizeof dur, "%d.%03d", duration_ms / 1000, duration_ms % 1000);
    char *video = fk_printf("testsrc2=size=%dx%d:rate=24:duration=%s", w, h, dur);
    char *audio = fk_printf("sine=frequency=%d:sample_rate=44100:duration=%s",
                            220 + (int)(variant % 661), dur);
    char *tint = fk_printf("hue=h=%d", (int)((variant >> 16) % 360));
    char *argv[] = {"ffmpeg",
                    "-nostdin",
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-i",
                    video,
                    "-f",
                    "lavfi",
                    "-i",
                    audio,
                    "-vf",
                    tint,
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-crf",
                    "32",
                    "-pix_fmt",
                    "yuv420p",
                    "-threads",
                    "1",
                    "-c:a",
                    "aac",
                    "-b:a",
                    "32k",
                    "-map_metadata",
                    "-1",
                    "-fflags",
                    "+bitexact",
                    "-flags:v",
                    "+bitexact",
                    "-flags:a",
                    "+bitexact",
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                    path,
                    NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, lfd, STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&fa, lfd, STDOUT_FILENO);
    pid_t pid;
    int rc = posix_spawnp(&pid, "ffmpeg", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(lfd);
    int status = 0;
    if (rc != 0) {
        snprintf(err, errlen, "cannot run ffmpeg: %s", strerror(rc));
    } else {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            unsigned char *said = NULL;
            size_t n = 0;
            read_file(log, &said, &n);
            snprintf(err, errlen, "ffmpeg failed (status %d): %.*s", status,
                     (int)(n > 300 ? 300 : n), said ? (char *)said : "");
            free(said);
            rc = -1;
        } else if (read_file(path, out, len) < 0 || *len == 0) {
            snprintf(err, errlen, "ffmpeg wrote no clip to %s", path);
            rc = -1;
        }
    }
    unlink(path);
    unlink(log);
    free(path);
    free(log);
    free(video);
    free(audio);
    free(tint);
    return rc == 0 ? 0 : -1;
}

int fk_video_clip(int duration_ms, bool portrait, uint64_t variant, unsigned char **out,
                  size_t *len, char *err, size_t errlen)
{
    pthread_mutex_lock(&render_lock);
    for (size_t i = 0; i < cache_n; i++) {
        struct clip *c = &cache[i];
        if (c->duration_ms == duration_ms && c->portrait == portrait && c->variant == variant) {
            *out = fk_malloc(c->len);
            memcpy(*out, c->data, c->len);
            *len = c->len;
            pthread_mutex_unlock(&render_lock);
            return 0;
        }
    }
    unsigned char *data = NULL;
    size_t n = 0;
    if (render(duration_ms, portrait, variant, &data, &n, err, errlen) < 0) {
        free(data);
        pthread_mutex_unlock(&render_lock);
        return -1;
    }
    struct clip *slot = &cache[cache_next]; /* the oldest entry makes room once full */
    free(slot->data);
    *slot = (struct clip){duration_ms, portrait, variant, data, n};
    cache_next = (cache_next + 1) % CACHE_MAX;
    if (cache_n < CACHE_MAX)
        cache_n++;
    *out = fk_malloc(n);
    memcpy(*out, data, n);
    *len = n;
    pthread_mutex_unlock(&render_lock);
    return 0;
}

void fk_video_release(void)
{
    pthread_mutex_lock(&render_lock);
    for (size_t i = 0; i < CACHE_MAX; i++) {
        free(cache[i].data);
        cache[i].data = NULL;
    }
    cache_n = cache_next = 0;
    pthread_mutex_unlock(&render_lock);
}
