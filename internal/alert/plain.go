package alert

import (
	"encoding/json"
	"errors"
)

// ErrRefused: the topic refused a message as it is (SNS's InvalidParameter
// or InvalidParameterValue): sending it again unchanged will not help.
var ErrRefused = errors.New("the topic refused the message as it is")

// Plain is m reduced to what every subscriber needs, for a topic that
// refused m as it was: the subject, the attributes (subscription filters
// match them) and the report as the one body, without the e-mail and SMS
// texts or the details, the parts of a message that can grow.
func Plain(m Message) Message {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(m.JSON), &fields) == nil {
		delete(fields, "details")
		fields["detailsError"] = json.RawMessage(`"AlertPublishFailed"`) // the details could not go out with it
		if b, err := json.Marshal(fields); err == nil {
			m.JSON = string(b)
		}
	}
	m.Email, m.SMS = "", ""
	return m
}
