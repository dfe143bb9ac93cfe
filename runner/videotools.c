/* videotools: FFmpeg's programs and version, once per process (see videotools.h). */
#include "videotools.h"
#include "buf.h"
#include "child.h"
#include "util.h"
#include "../stages/video.h"

#include <stdlib.h>

#define VERSION_BYTES 4096

static char *find(const char *name, struct gf_err *err)
{
    char *path = child_find_program(name);
    if (!path)
        gf_error(err, GF_ERR_CONFIG,
                 "'%s' is not installed (not found on PATH); install the Debian package 'ffmpeg'",
                 name);
    return path;
}

const struct video_tools *video_tools_get(struct gf_err *err)
{
    static struct video_tools tools;
    if (tools.version)
        return &tools;
    struct video_tools t = {0};
    struct buf out = BUF_INIT;
    int status = 0;
    if (!(t.ffmpeg = find("ffmpeg", err)) || !(t.ffprobe = find("ffprobe", err)))
        goto fail;
    const char *argv[] = {t.ffmpeg, "-version", NULL};
    if (child_run(argv, &out, VERSION_BYTES, &status, err) < 0)
        goto fail;
    t.major = video_ffmpeg_major(out.data);
    t.version = video_ffmpeg_version(out.data);
    if (!t.major || !t.version) {
        gf_error(err, GF_ERR_CONFIG, "'%s -version' does not say which FFmpeg it is (%s)", t.ffmpeg,
                 child_status_text(status));
        goto fail;
    }
    buf_release(&out);
    tools = t;
    return &tools;
fail:
    buf_release(&out);
    free(t.ffmpeg);
    free(t.ffprobe);
    free(t.major);
    free(t.version);
    return NULL;
}
