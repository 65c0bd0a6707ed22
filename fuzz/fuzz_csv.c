/* fuzz_csv.c — libFuzzer target for the CSV reader: any bytes must give a
 * frame or a clean error (no crash, leak, or undefined behaviour). The first
 * byte picks reader options so that null spellings, schema overrides and
 * delimiters are exercised too; a frame that loads is also run through a
 * small pipeline, and the first 8 bytes as a double must survive the
 * writer's number formatting exactly. Built by `make fuzz`; the corpus in fuzz/corpus/csv is
 * replayed by tests/unit/test_fuzz_replay.c in `make check`. */
#include "hamf.h"
#include "data/csv.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8) { /* any double: the writer's text reads back exactly */
        double v;
        char text[32];
        memcpy(&v, data, sizeof v);
        int n = hamf__csv_fmt_double(text, v);
        if (n <= 0 || n >= 32) abort();
        double back = strtod(text, NULL);
        if (isnan(v) ? !isnan(back) : (back != v || signbit(back) != signbit(v))) abort();
    }
    hamf_csv_options o;
    hamf_csv_options_init(&o);
    uint8_t mode = size ? data[0] : 0;
    if (size) {
        data++;
        size--;
    }
    if (mode & 1) o.null_values = "NA,null,NaN";
    if (mode & 2) o.delimiter = ';';
    if (mode & 4) o.schema = "a:int64";
    if (mode & 8) o.schema = "b:string,a:double";
    o.threads = 1 + (mode >> 6);
    hamf_frame *f = NULL;
    if (hamf_csv_read_mem((const char *)data, size, "fuzz.csv", &o, &f) == HAMF_OK) {
        hamf_pipeline *p = NULL;
        if (hamf_frame_ncols(f) > 0 &&
            hamf_pipeline_parse("with z = CASE WHEN a = 'yes' THEN 1 ELSE 0 END\nwith y = a / b", "fuzz", &p) == HAMF_OK)
            (void)hamf_pipeline_apply(p, f);
        hamf_pipeline_free(p);
        for (size_t k = 0; k < hamf_frame_ncols(f); k++) {
            if (hamf_frame_col_type(f, k) == HAMF_DTYPE_STRING) {
                const int32_t *c = hamf_frame_codes(f, k);
                for (size_t r = 0; r < hamf_frame_nrows(f); r++)
                    if (c[r] >= 0 && !hamf_frame_dict_value(f, k, (size_t)c[r])) abort();
            } else {
                double *v = malloc((hamf_frame_nrows(f) + 1) * sizeof *v);
                if (v && hamf_frame_get_f64(f, k, v) != HAMF_OK) abort();
                free(v);
            }
        }
    }
    hamf_frame_free(f);
    return 0;
}
