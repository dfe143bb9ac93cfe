/* videotools: the FFmpeg programs the video stage runs (ffmpeg and ffprobe, found on PATH) and
 * FFmpeg's version, asked once per process (`ffmpeg -version`). */
#ifndef GF_VIDEOTOOLS_H
#define GF_VIDEOTOOLS_H

#include "err.h"

struct video_tools {
    char *ffmpeg, *ffprobe; /* full paths */
    char *major;            /* "5": part of the item's request */
    char *version;          /* "5.1.9-0+deb12u1": part of every segment's key */
};

/* The tools (borrowed, for the life of the process), or NULL with err (GF_ERR_CONFIG) when a
 * program is not installed or FFmpeg does not say which version it is. A failure is not
 * remembered: the next call looks again. */
const struct video_tools *video_tools_get(struct gf_err *err);

#endif
