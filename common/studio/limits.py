"""What the `generate_image` function needs at start of the studio: the upload limit and the
image jobs' queue topic, without the design models (pydantic loads on a route's first call)."""

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # an uploaded image, at most
IMAGE_JOBS = "image-jobs"  # the queue's topic of image jobs, consumed by `generate_image`
