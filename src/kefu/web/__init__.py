"""What kefu serves to browsers besides the API: the web chat widget's script and stylesheet
(static/widget/), and the demo shop page that embeds it (templates/, static/demo/)."""
