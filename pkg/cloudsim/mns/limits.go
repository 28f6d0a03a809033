package mns

import (
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// Limit is a documented range of an MNS request parameter: a value outside it is
// answered InvalidArgument, "The value of NAME should between LOW and HIGH UNIT." (the
// MNS error codes page lists the code and the message's shape).
type Limit struct {
	Name       string
	Low, High  int
	Unit       string
	Operations []string // the operations it bounds
	Source     string   // the API reference page
}

const mnsDocs = "https://www.alibabacloud.com/help/en/mns/developer-reference/"

// The limits of the queue and topic APIs the emulation serves.
var (
	limDelaySeconds = Limit{"DelaySeconds", 0, 604800, "seconds", []string{"CreateQueue", "SetQueueAttributes", "SendMessage", "BatchSendMessage"},
		mnsDocs + "createqueue"}
	limMaximumMessageSize = Limit{"MaximumMessageSize", 1024, 65536, "bytes", []string{"CreateQueue", "SetQueueAttributes", "CreateTopic", "SetTopicAttributes"},
		mnsDocs + "createqueue"}
	limRetention = Limit{"MessageRetentionPeriod", 60, 604800, "seconds", []string{"CreateQueue", "SetQueueAttributes"},
		mnsDocs + "createqueue"}
	limVisibilityTimeout = Limit{"VisibilityTimeout", 1, 43200, "seconds", []string{"CreateQueue", "SetQueueAttributes", "ChangeMessageVisibility"},
		mnsDocs + "changemessagevisibility"}
	limPollingWaitSeconds = Limit{"PollingWaitSeconds", 0, 30, "seconds", []string{"CreateQueue", "SetQueueAttributes"},
		mnsDocs + "createqueue"}
	limWaitSeconds = Limit{"waitseconds", 0, 30, "seconds", []string{"ReceiveMessage", "BatchReceiveMessage"},
		mnsDocs + "batchreceivemessage"}
	limPriority       = Limit{"Priority", 1, 16, "", []string{"SendMessage", "BatchSendMessage"}, mnsDocs + "sendmessage"}
	limNumOfMessages  = Limit{"numOfMessages", 1, 16, "", []string{"BatchReceiveMessage", "BatchPeekMessage"}, mnsDocs + "batchreceivemessage"}
	limBatchMessages  = Limit{"count of Messages", 1, 16, "", []string{"BatchSendMessage"}, mnsDocs + "batchsendmessage"}
	limBatchBytes     = Limit{"total size of MessageBody", 1, 65536, "bytes", []string{"BatchSendMessage"}, mnsDocs + "batchsendmessage"}
	limBatchHandles   = Limit{"count of ReceiptHandles", 1, 16, "", []string{"BatchDeleteMessage"}, mnsDocs + "batchdeletemessage"}
	limRetNumber      = Limit{"x-mns-ret-number", 1, 1000, "", []string{"ListQueue", "ListTopic"}, mnsDocs + "listqueue"}
	limQueueName      = Limit{"queue name length", 1, 256, "characters", []string{"CreateQueue"}, mnsDocs + "createqueue"}
	limTopicName      = Limit{"topic name length", 1, 256, "characters", []string{"CreateTopic"}, mnsDocs + "createtopic"}
	defaultPriority   = 8 // SendMessage: "Default value: 8"
	defaultRetention  = 345600
	defaultVisibility = 30
)

// Limits lists every limit, for tests and documentation.
var Limits = []Limit{limDelaySeconds, limMaximumMessageSize, limRetention, limVisibilityTimeout, limPollingWaitSeconds,
	limWaitSeconds, limPriority, limNumOfMessages, limBatchMessages, limBatchBytes, limBatchHandles, limRetNumber,
	limQueueName, limTopicName}

// bad is the answer to a value outside the limit.
func (l Limit) bad() *emu.APIError { return invalidValue(l.Name, l.Low, l.High, l.Unit) }

// check answers a value outside the limit.
func (l Limit) check(v int) *emu.APIError {
	if v < l.Low || v > l.High {
		return l.bad()
	}
	return nil
}

// seconds is the limit's top as a duration (for second-valued limits).
func (l Limit) seconds() time.Duration { return time.Duration(l.High) * time.Second }
