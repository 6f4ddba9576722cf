/* Intel 8042 / IBM PC-AT keyboard controller commands (the subset every
 * chipset keeps; see the IBM PC AT Technical Reference, "Keyboard
 * Controller", and Linux's drivers/input/serio/i8042.h). */
#include "vmm/devices/i8042.h"

#include <string.h>

#define ST_OBF 0x01     /* output buffer full */
#define ST_SYS 0x04     /* system flag: POST passed */
#define ST_CMD 0x08     /* last write was a command */
#define ST_KEYLOCK 0x10 /* keyboard not inhibited */

#define CMD_READ_CB 0x20
#define CMD_WRITE_CB 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUT 0xd0
#define CMD_WRITE_OUT 0xd1
#define CMD_PULSE_LOW 0xf0 /* 0xf0-0xff: pulse the output lines whose bit is 0 */

#define CB_KBD_DISABLED 0x10
#define CB_AUX_DISABLED 0x20
#define CB_DEFAULT 0x45 /* XLATE, SYS, keyboard interrupt on, as after POST */
#define OUT_RESET_HIGH 0x01 /* output port bit 0: the CPU runs while it is 1 */
#define OUT_DEFAULT 0x03 /* reset high, A20 enabled */
#define SELF_TEST_OK 0x55
#define PORT_TEST_OK 0x00

static void i8042_reply(struct i8042 *k, uint8_t v)
{
	k->s.out = v;
	k->s.out_full = 1;
}

static void i8042_set_out_port(struct i8042 *k, uint8_t v)
{
	k->s.out_port = v;
	if (!(v & OUT_RESET_HIGH) && k->reset_req)
		k->reset_req(k->opaque);
}

static uint32_t i8042_data_read(void *dev, uint16_t offset, unsigned size)
{
	struct i8042 *k = dev;

	k->s.out_full = 0; /* the last byte stays readable, as on real parts */
	return k->s.out;
}

static void i8042_data_write(void *dev, uint16_t offset, unsigned size, uint32_t value)
{
	struct i8042 *k = dev;
	uint8_t cmd = k->s.pending;

	k->s.last_cmd = 0;
	k->s.pending = 0;
	if (cmd == CMD_WRITE_CB)
		k->s.cmd_byte = (uint8_t)value;
	else if (cmd == CMD_WRITE_OUT)
		i8042_set_out_port(k, (uint8_t)value);
	/* Otherwise it is for the keyboard, and none is attached. */
}

static uint32_t i8042_status_read(void *dev, uint16_t offset, unsigned size)
{
	struct i8042 *k = dev;

	return (k->s.out_full ? ST_OBF : 0) | ST_SYS | (k->s.last_cmd ? ST_CMD : 0) | ST_KEYLOCK;
}

static void i8042_cmd_write(void *dev, uint16_t offset, unsigned size, uint32_t value)
{
	struct i8042 *k = dev;
	uint8_t c = (uint8_t)value;

	k->s.last_cmd = 1;
	k->s.pending = 0;
	switch (c) {
	case CMD_READ_CB: i8042_reply(k, k->s.cmd_byte); break;
	case CMD_WRITE_CB:
	case CMD_WRITE_OUT: k->s.pending = c; break;
	case CMD_SELF_TEST: i8042_reply(k, SELF_TEST_OK); break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST: i8042_reply(k, PORT_TEST_OK); break;
	case CMD_KBD_DISABLE: k->s.cmd_byte |= CB_KBD_DISABLED; break;
	case CMD_KBD_ENABLE: k->s.cmd_byte &= (uint8_t)~CB_KBD_DISABLED; break;
	case CMD_AUX_DISABLE: k->s.cmd_byte |= CB_AUX_DISABLED; break;
	case CMD_AUX_ENABLE: k->s.cmd_byte &= (uint8_t)~CB_AUX_DISABLED; break;
	case CMD_READ_OUT: i8042_reply(k, k->s.out_port); break;
	default:
		/* A pulse lowers the lines for 6 us and raises them again: only
		 * the reset line (bit 0) matters here. */
		if (c >= CMD_PULSE_LOW && !(c & OUT_RESET_HIGH) && k->reset_req)
			k->reset_req(k->opaque);
		break;
	}
}

static void i8042_reset(struct i8042 *k)
{
	memset(&k->s, 0, sizeof(k->s));
	k->s.cmd_byte = CB_DEFAULT;
	k->s.out_port = OUT_DEFAULT;
}

static void i8042_save(const void *dev, void *blob)
{
	memcpy(blob, &((const struct i8042 *)dev)->s, sizeof(struct i8042_state));
}

static int i8042_restore(void *dev, const void *blob)
{
	memcpy(&((struct i8042 *)dev)->s, blob, sizeof(struct i8042_state));
	return 0;
}

void i8042_init(struct i8042 *k, void (*reset_req)(void *opaque), void *opaque)
{
	k->reset_req = reset_req;
	k->opaque = opaque;
	i8042_reset(k);
}

const struct vmm_device_ops i8042_ops = {
	.name = "i8042",
	.io = {
		[I8042_IO_DATA] = { 0x60, 1, i8042_data_read, i8042_data_write },
		[I8042_IO_CMD] = { 0x64, 1, i8042_status_read, i8042_cmd_write },
	},
	.state_size = sizeof(struct i8042_state),
	.save = i8042_save,
	.restore = i8042_restore,
};
