/*
 * The embedded default configuration: config/safegate.conf, byte for byte,
 * followed by a NUL.  safegated uses it when no -c is given and
 * /etc/safegate/safegate.conf does not exist.
 */
	.section .rodata
	.global	sg_default_conf
	.type	sg_default_conf, @object
sg_default_conf:
	.incbin	"config/safegate.conf"
	.byte	0
	.size	sg_default_conf, . - sg_default_conf
	.section .note.GNU-stack, "", @progbits
