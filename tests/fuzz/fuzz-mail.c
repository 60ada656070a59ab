/* fuzz-mail - RFC 822 / MIME parsing (multipart nesting, quoted-printable,
 * base64, RFC 2047, charsets) and mbox splitting on arbitrary bytes: no
 * crash, and the text is always valid UTF-8. */
#include "mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mail_msg m;
	mail_sniff(data, size);
	mbox_sniff(data, size);
	size_t off = 0, len;
	const uint8_t *msg;
	int k = 0;
	while (mbox_next(data, size, &off, &msg, &len) && k++ < 50) {
		mail_parse(msg, len, &m);
		const struct buf *b[] = {&m.text, &m.subject, &m.from, &m.date};
		for (int i = 0; i < 4; i++)
			if (!utf8_valid(b[i]->p ? b[i]->p : (const uint8_t *)"", b[i]->len))
				__builtin_trap();
	}
	return 0;
}
