package alert

import (
	"bytes"
	"encoding/json"
	"errors"
)

// ErrRefused: the topic refused a message as it is (SNS's InvalidParameter
// or InvalidParameterValue): sending it again unchanged will not help.
var ErrRefused = errors.New("the topic refused the message as it is")

// Plain is m reduced to what every subscriber needs, for a topic that
// refused m as it was: the subject, the attributes (subscription filters
// match them) and the report as the one body, without the e-mail and SMS
// texts or the details, the parts of a message that can grow. Only a
// message that had details says they could not go out with it
// (detailsError); reminders, resolutions, stuck and late pages never carry
// any.
func Plain(m Message) Message {
	if body, had := without([]byte(m.JSON), "details"); had {
		body, _ = without(body, "detailsError") // whatever kept part of them, now they are all missing
		m.JSON = string(With(body, "detailsError", "AlertPublishFailed"))
	}
	m.Email, m.SMS = "", ""
	return m
}

// without is the JSON object obj without its member name, the others as
// they were and in their order, and whether it had one; obj as it is when
// it is not an object.
func without(obj []byte, name string) (json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj, false
	}
	out, had := []byte{'{'}, false
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		var v json.RawMessage
		if err != nil || !ok || dec.Decode(&v) != nil {
			return obj, false
		}
		if key == name {
			had = true
			continue
		}
		k, err := json.Marshal(key)
		if err != nil {
			return obj, false
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}'), had
}
