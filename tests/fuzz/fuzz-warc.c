/* fuzz-warc - the WARC reader (plain and gzip, header blocks, lengths,
 * skipping oversize blocks) and the archived-HTTP decoder (chunked, gzip,
 * deflate) on arbitrary bytes: errors are fine, crashes and unbounded
 * growth are not. */
#include "warc.h"

#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static struct warc_http h;
	if (fd < 0) {
		fd = memfd_create("fuzz-warc", 0);
		buf_init(&h.body, 0);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size || lseek(fd, 0, SEEK_SET))
		return 0;
	warc_sniff(data, size);
	warc_reader *r = warc_open(fd, "fuzz", 4096);
	struct warc_rec rec;
	struct pea_err e;
	int k = 0;
	while (k++ < 100 && warc_next(r, &rec, &e) == 1)
		if (rec.block)
			warc_http_body(rec.block, rec.len, 1 << 16, &h, &e);
	warc_free(r);
	warc_http_body(data, size, 1 << 16, &h, &e);
	return 0;
}
