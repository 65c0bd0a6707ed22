/* test_auth.c — server/auth.c: SHA-256 against known digests (including
 * the padding boundaries at 55/56 and 119/120 bytes), the credentials file
 * parser (errors name file:line), verification and its cache, and the
 * passwd writer (mode 0600, yescrypt, other lines kept). */
#include "t.h"
#include "server/auth.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void hex(const uint8_t d[32], char out[65])
{
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_sha256(void)
{
    static const struct { size_t n; const char *want; } v[] = {
        {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
        {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
        {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
        {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
        {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
        {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
        {1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"},
    };
    uint8_t data[1000], d[32];
    char h[65];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)((i * 7 + 3) & 0xff);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        hamf__sha256(data, v[i].n, d);
        hex(d, h);
        T_EQ_STR(h, v[i].want);
    }
    hamf__sha256("abc", 3, d);
    hex(d, h);
    T_EQ_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static char dir[] = "/tmp/hamf-test-auth-XXXXXX";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_load_errors(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/bad", dir);
    struct hamf__auth *a = NULL;
    write_file(p, "# users\n\nalice\n");
    T_STATUS(hamf__auth_load(p, &a), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "/bad:3: expected 'user:hash'") != NULL);
    write_file(p, "alice:plaintext\n");
    T_STATUS(hamf__auth_load(p, &a), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "/bad:1: hash must be yescrypt") != NULL);
    write_file(p, "alice:$y$j9T$abc$short\n");
    T_STATUS(hamf__auth_load(p, &a), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "/bad:1: hash has the wrong length") != NULL);
    write_file(p, "# only a comment\n");
    T_STATUS(hamf__auth_load(p, &a), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "no users") != NULL);
    snprintf(p, sizeof p, "%s/missing", dir);
    T_STATUS(hamf__auth_load(p, &a), HAMF_ERR_IO);
    T_TRUE(a == NULL);
}

static void test_passwd_and_verify(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/users", dir);
    write_file(p, "# hamf users\n");
    T_OK(hamf__auth_passwd_set(p, "alice", "s3cret:with colon"));
    T_OK(hamf__auth_passwd_set(p, "bob", "hunter2"));
    T_OK(hamf__auth_passwd_set(p, "alice", "changed"));
    T_STATUS(hamf__auth_passwd_set(p, "carol", ""), HAMF_ERR_CONSTRAINT);
    T_STATUS(hamf__auth_passwd_set(p, "ca:rol", "x"), HAMF_ERR_CONSTRAINT);
    T_STATUS(hamf__auth_passwd_set(p, "", "x"), HAMF_ERR_CONSTRAINT);
    struct stat sb;
    T_TRUE(stat(p, &sb) == 0);
    T_EQ_INT(sb.st_mode & 0777, 0600);
    FILE *f = fopen(p, "r");
    char line[256];
    T_TRUE(fgets(line, sizeof line, f) && !strcmp(line, "# hamf users\n"));
    T_TRUE(fgets(line, sizeof line, f) && !strncmp(line, "alice:$y$", 9)); /* replaced in place */
    T_TRUE(fgets(line, sizeof line, f) && !strncmp(line, "bob:$y$", 7));
    T_TRUE(!fgets(line, sizeof line, f));
    fclose(f);

    struct hamf__auth *a = NULL;
    T_OK(hamf__auth_load(p, &a));
    T_TRUE(hamf__auth_verify(a, "alice", "changed"));
    T_TRUE(hamf__auth_verify(a, "alice", "changed")); /* cached */
    T_TRUE(!hamf__auth_verify(a, "alice", "s3cret:with colon"));
    T_TRUE(!hamf__auth_verify(a, "alice", "Changed"));
    T_TRUE(hamf__auth_verify(a, "bob", "hunter2"));
    T_TRUE(!hamf__auth_verify(a, "bob", "changed"));
    T_TRUE(!hamf__auth_verify(a, "mallory", "changed"));
    T_TRUE(!hamf__auth_verify(a, "alice", NULL));
    T_TRUE(!hamf__auth_verify(a, NULL, NULL));
    T_TRUE(!hamf__auth_request(a, "/metrics", NULL, NULL));
    hamf__auth_set_metrics_public(a, true);
    T_TRUE(hamf__auth_request(a, "/metrics", NULL, NULL));
    T_TRUE(!hamf__auth_request(a, "/", NULL, NULL));
    hamf__auth_free(a);

    /* a sha512-crypt line written by another tool is accepted */
    write_file(p, "dave:$6$yIcZ5FRvdlOii0hx$vkWKW/BXFe9BJPH4lYlwuIGdUkw9zqoLMepc9ec2XHevcLNHchiQ28i.0a8Bz6pzrNCq9amcq7QgiJYDtIE3x0\n");
    T_OK(hamf__auth_load(p, &a));
    T_TRUE(hamf__auth_verify(a, "dave", "secret"));
    T_TRUE(!hamf__auth_verify(a, "dave", "secreT"));
    hamf__auth_free(a);
}

static void test_loopback(void)
{
    bool lb = false;
    T_OK(hamf__host_is_loopback("127.0.0.1", &lb));
    T_TRUE(lb);
    T_OK(hamf__host_is_loopback("::1", &lb));
    T_TRUE(lb);
    T_OK(hamf__host_is_loopback("127.3.4.5", &lb));
    T_TRUE(lb);
    T_OK(hamf__host_is_loopback("0.0.0.0", &lb));
    T_TRUE(!lb);
    T_OK(hamf__host_is_loopback("::", &lb));
    T_TRUE(!lb);
    T_OK(hamf__host_is_loopback("10.1.2.3", &lb));
    T_TRUE(!lb);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    T_RUN(test_sha256);
    T_RUN(test_load_errors);
    T_RUN(test_passwd_and_verify);
    T_RUN(test_loopback);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
