/* models: per-family facts used before calling (input token limits). */
#include "models.h"
#include "util.h"

#include <string.h>

int64_t models_input_token_limit(const char *model)
{
    if (str_starts_with(model, "imagen-"))
        return 480;
    if (strstr(model, "-tts"))
        return 8192;
    if (str_starts_with(model, "gemini-2.5-flash-image"))
        return 32768;
    if (str_starts_with(model, "gemini-") && strstr(model, "-image"))
        return 65536;
    if (str_starts_with(model, "gemini-"))
        return 1048576;
    return 0;
}

int64_t models_estimate_tokens(uint64_t bytes)
{
    return (int64_t)(bytes / 4 + (bytes % 4 != 0));
}
