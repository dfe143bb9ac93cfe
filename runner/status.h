/* status: a job's state as one entry of `gemflow status --json` (documented and checked by
 * docs/status.schema.json): per stage its state, items, failures with the API's words, edited
 * and accepted artifacts, time and tokens. Used by `status` and `report`. */
#ifndef GF_STATUS_H
#define GF_STATUS_H

#include "jobfacts.h"
#include "look.h"

#include <cjson/cJSON.h>

/* The entry of a job opened with job_open and looked at with look_job (caller deletes). */
cJSON *status_job_json(struct job *job, const struct look_stage *looks,
                       const struct job_facts *facts);

#endif
